//! Error scopes over a `wgpu::Device`: a step runs inside validation and out-of-memory scopes, and
//! what they caught becomes a typed error. wgpu's default handler would panic instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, GpuSource, Result};

/// Whether a device was lost, set by its device-lost callback; named after its adapter in errors.
#[derive(Debug, Clone)]
pub(crate) struct Liveness {
    lost: Arc<AtomicBool>,
    adapter: String,
}

impl Liveness {
    pub(crate) fn new(adapter: &str) -> Self {
        Self {
            lost: Arc::new(AtomicBool::new(false)),
            adapter: adapter.to_string(),
        }
    }

    /// The flag the device-lost callback sets.
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.lost.clone()
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// [`Error::DeviceLost`] once the device is lost.
    pub(crate) fn check(&self) -> Result<()> {
        if self.is_lost() {
            Err(self.lost_error(None))
        } else {
            Ok(())
        }
    }

    pub(crate) fn lost_error(&self, source: Option<GpuSource>) -> Error {
        Error::DeviceLost {
            message: format!(
                "the device of adapter {:?} was lost; create a new GpuContext",
                self.adapter
            ),
            source,
        }
    }
}

/// Runs `f` (named `operation` in errors) inside validation and out-of-memory error scopes.
///
/// # Errors
/// [`Error::OutOfMemory`], [`Error::Validation`], or [`Error::DeviceLost`] when the device is
/// (or becomes) lost.
pub(crate) fn scoped<T>(
    device: &wgpu::Device,
    liveness: &Liveness,
    operation: &str,
    f: impl FnOnce() -> T,
) -> Result<T> {
    liveness.check()?;
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = f();
    let validation = pollster::block_on(validation.pop());
    let oom = pollster::block_on(oom.pop());
    if let Some(e) = oom {
        return Err(Error::OutOfMemory {
            operation: operation.to_string(),
            source: GpuSource::new(e),
        });
    }
    if let Some(e) = validation {
        return Err(if liveness.is_lost() {
            liveness.lost_error(Some(GpuSource::new(e)))
        } else {
            Error::Validation {
                operation: operation.to_string(),
                source: GpuSource::new(e),
            }
        });
    }
    liveness.check()?;
    Ok(value)
}
