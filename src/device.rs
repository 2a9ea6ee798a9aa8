//! Where a layer runs: the CPU reference path, a GPU context, or automatically the GPU when one exists.

use std::sync::{Arc, Once};

use crate::error::Result;
use crate::gpu::{GpuContext, GpuOptions};

/// The device a forward pass runs on.
#[derive(Debug, Clone)]
pub enum Device {
    /// The f64 reference path.
    Cpu,
    /// A GPU through wgpu.
    Gpu(Arc<GpuContext>),
}

static FALLBACK_WARNING: Once = Once::new();

impl Device {
    /// The CPU reference path.
    pub fn cpu() -> Self {
        Self::Cpu
    }

    /// A GPU, chosen by [`GpuContext::new`] with default options (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`).
    ///
    /// # Errors
    /// [`crate::Error::NoAdapter`] where there is no adapter; [`crate::Error::RequestDevice`] when the device request fails.
    pub fn gpu() -> Result<Self> {
        GpuContext::new(&GpuOptions::default()).map(Self::Gpu)
    }

    /// The GPU when an adapter exists, else the CPU path (saying so once per process).
    pub fn auto() -> Self {
        Self::auto_with(&GpuOptions::default())
    }

    /// [`Device::auto`] with explicit adapter options.
    pub fn auto_with(options: &GpuOptions) -> Self {
        match GpuContext::new(options).map(Self::Gpu) {
            Ok(d) => d,
            Err(e) => {
                FALLBACK_WARNING.call_once(|| log::warn!("{e}; using the CPU path"));
                Self::Cpu
            }
        }
    }

    /// `cpu`, or the adapter's name and backend.
    pub fn describe(&self) -> String {
        match self {
            Self::Cpu => "cpu (reference path)".into(),
            Self::Gpu(ctx) => format!("gpu: {} ({:?})", ctx.adapter_info().name, ctx.adapter_info().backend),
        }
    }
}
