//! A layer's kernel and bias resident on one device, tagged with the weights' version. The kernel
//! is kept in each layout an algorithm asked for ([`WeightPrep`]), prepared once and reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::device::GpuContext;
use crate::gpu::kernels::WeightPrep;
use crate::gpu::memory::binds::{BindCache, Bound};
use crate::gpu::memory::{buffers, pool};
use crate::gpu::program::ElementType;

/// A weight buffer with its bind-group cache id.
type Resident = (u64, wgpu::Buffer);

pub(crate) struct GpuWeights {
    pub context_id: u64,
    pub version: u64,
    /// Every kernel and bias value is finite (the GPU path assumes finite math).
    pub finite: bool,
    pub element: ElementType,
    /// HWIO `(kh, kw, Cin/groups, filters)`.
    shape: [usize; 4],
    kernels: Mutex<HashMap<WeightPrep, Arc<Resident>>>,
    bias: Option<Resident>,
    /// This layer's bind groups on this device, reused across calls.
    pub binds: BindCache,
}

impl GpuWeights {
    /// Uploads the bias and the (LoRA-merged) HWIO kernel of `shape` in the layout `prep`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the kernel exceeds one binding; the GPU's errors.
    pub(crate) fn upload(
        ctx: &GpuContext,
        version: u64,
        kernel: &[f32],
        shape: [usize; 4],
        bias: Option<&[f32]>,
        prep: WeightPrep,
    ) -> Result<Self> {
        let element = ElementType::F32;
        let _exclusive = ctx.exclusive();
        let weights = Self {
            context_id: ctx.id,
            version,
            finite: kernel.iter().chain(bias.unwrap_or(&[])).all(|v| v.is_finite()),
            element,
            shape,
            kernels: Mutex::new(HashMap::new()),
            bias: bias
                .map(|b| buffers::upload(ctx, "wgpu-conv2d bias", element, b).map(|buf| (pool::next_id(), buf)))
                .transpose()?,
            binds: BindCache::default(),
        };
        weights.prepare(ctx, prep, kernel)?;
        Ok(weights)
    }

    /// True when the kernel is resident in the layout `prep`.
    pub(crate) fn has(&self, prep: WeightPrep) -> bool {
        self.kernels.lock().is_ok_and(|k| k.contains_key(&prep))
    }

    /// Uploads the HWIO `kernel` in the layout `prep` (a no-op when it is resident).
    ///
    /// # Errors
    /// As [`GpuWeights::upload`].
    pub(crate) fn prepare(&self, ctx: &GpuContext, prep: WeightPrep, kernel: &[f32]) -> Result<()> {
        if self.has(prep) {
            return Ok(());
        }
        let prepared = prep.apply(kernel, self.shape);
        let bytes = self
            .element
            .bytes_of(prepared.len())
            .ok_or(Error::SizeOverflow("kernel bytes"))?;
        let limit = ctx.caps.max_tensor_bytes();
        if bytes > limit {
            return Err(Error::Unsupported(format!(
                "the kernel ({bytes} bytes) exceeds the device limit of {limit} bytes per binding"
            )));
        }
        let buffer = buffers::upload(ctx, prep.label(), self.element, &prepared)?;
        self.kernels
            .lock()
            .map_err(|_| Error::PoisonedLock("a layer's resident kernels"))?
            .entry(prep)
            .or_insert_with(|| Arc::new((pool::next_id(), buffer)));
        Ok(())
    }

    /// The kernel in the layout `prep`, which [`GpuWeights::prepare`] must have uploaded.
    pub(crate) fn kernel(&self, prep: WeightPrep) -> Result<Arc<Resident>> {
        self.kernels
            .lock()
            .map_err(|_| Error::PoisonedLock("a layer's resident kernels"))?
            .get(&prep)
            .cloned()
            .ok_or_else(|| Error::Unsupported(format!("internal: the kernel was not uploaded as {}", prep.label())))
    }

    /// The bias, or the context's placeholder for a layer without one.
    pub(crate) fn bias<'a>(&'a self, ctx: &'a GpuContext) -> Bound<'a> {
        let (id, buffer) = self.bias.as_ref().unwrap_or(&ctx.dummy);
        Bound { id: *id, buffer }
    }
}
