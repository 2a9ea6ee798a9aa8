//! A layer's kernel and bias resident on one device, tagged with the weights' version. They are
//! kept in each layout a plan asked for ([`WeightPrep`]: Keras's own, or packed with the layer),
//! prepared once and reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::device::GpuContext;
use crate::gpu::kernels::WeightPrep;
use crate::gpu::memory::binds::{BindCache, Bound, Resource};
use crate::gpu::memory::{buffers, pool};
use crate::gpu::program::ElementType;

/// A weight buffer with its bind-group cache id.
type Resident = (u64, wgpu::Buffer);

/// Where a kernel is resident: a storage buffer, or a texture ([`WeightPrep::texture`]).
enum KernelStore {
    Buffer(wgpu::Buffer),
    Texture {
        _texture: wgpu::Texture,
        view: wgpu::TextureView,
    },
}

/// The kernel and bias in one layout.
pub(crate) struct Prepared {
    kernel: (u64, KernelStore),
    bias: Option<Resident>,
}

impl Prepared {
    pub(crate) fn kernel(&self) -> Bound<'_> {
        let resource = match &self.kernel.1 {
            KernelStore::Buffer(buffer) => Resource::Buffer(buffer),
            KernelStore::Texture { view, .. } => Resource::Texture(view),
        };
        Bound {
            id: self.kernel.0,
            resource,
        }
    }

    /// The bias, or the context's placeholder for a layer without one.
    pub(crate) fn bias<'a>(&'a self, ctx: &'a GpuContext) -> Bound<'a> {
        let (id, buffer) = self.bias.as_ref().unwrap_or(&ctx.dummy);
        Bound::buffer(*id, buffer)
    }
}

pub(crate) struct GpuWeights {
    pub context_id: u64,
    pub version: u64,
    /// Every kernel and bias value is finite (the GPU path assumes finite math).
    pub finite: bool,
    pub element: ElementType,
    /// HWIO `(kh, kw, Cin/groups, filters)` and the layer's groups.
    shape: [usize; 4],
    groups: usize,
    prepared: Mutex<HashMap<WeightPrep, Arc<Prepared>>>,
    /// This layer's bind groups on this device, reused across calls.
    pub binds: BindCache,
}

impl GpuWeights {
    /// Uploads the (LoRA-merged) HWIO kernel of `shape` and the bias in the layout `prep`, stored
    /// as `element`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the kernel exceeds one binding; the GPU's errors.
    pub(crate) fn upload(
        ctx: &GpuContext,
        version: u64,
        (kernel, shape, groups): (&[f32], [usize; 4], usize),
        bias: Option<&[f32]>,
        (prep, element): (WeightPrep, ElementType),
    ) -> Result<Self> {
        let _exclusive = ctx.exclusive();
        let weights = Self {
            context_id: ctx.id,
            version,
            finite: kernel.iter().chain(bias.unwrap_or(&[])).all(|v| v.is_finite()),
            element,
            shape,
            groups,
            prepared: Mutex::new(HashMap::new()),
            binds: BindCache::default(),
        };
        weights.prepare(ctx, prep, kernel, bias)?;
        Ok(weights)
    }

    /// True when the weights are resident in the layout `prep`.
    pub(crate) fn has(&self, prep: WeightPrep) -> bool {
        self.prepared.lock().is_ok_and(|k| k.contains_key(&prep))
    }

    /// Uploads the HWIO `kernel` and `bias` in the layout `prep` (a no-op when resident).
    ///
    /// # Errors
    /// As [`GpuWeights::upload`].
    pub(crate) fn prepare(
        &self,
        ctx: &GpuContext,
        prep: WeightPrep,
        kernel: &[f32],
        bias: Option<&[f32]>,
    ) -> Result<()> {
        if self.has(prep) {
            return Ok(());
        }
        let prepared = prep.kernel(kernel, self.shape, self.groups);
        let bytes = prep
            .kernel_element(self.element)
            .bytes_of(prepared.len())
            .ok_or(Error::SizeOverflow("kernel bytes"))?;
        let limit = ctx.caps.max_tensor_bytes();
        if bytes > limit {
            return Err(Error::Unsupported(format!(
                "the kernel ({bytes} bytes) exceeds the device limit of {limit} bytes per binding"
            )));
        }
        let store = if prep.texture {
            let (texture, view) = self.texture(ctx, prep, &prepared)?;
            KernelStore::Texture {
                _texture: texture,
                view,
            }
        } else {
            KernelStore::Buffer(buffers::upload(
                ctx,
                prep.label(),
                prep.kernel_element(self.element),
                &prepared,
            )?)
        };
        let kernel = (pool::next_id(), store);
        let bias = bias
            .map(|b| {
                let b = prep.bias(b, self.groups);
                buffers::upload(ctx, "wgpu-conv2d bias", self.element, &b).map(|buf| (pool::next_id(), buf))
            })
            .transpose()?;
        self.prepared
            .lock()
            .map_err(|_| Error::PoisonedLock("a layer's resident weights"))?
            .entry(prep)
            .or_insert_with(|| Arc::new(Prepared { kernel, bias }));
        Ok(())
    }

    /// The f32 kernel `prepared` (in the layout `prep`) as a texture of one row per HWIO row and
    /// one texel per 4 filters.
    fn texture(
        &self,
        ctx: &GpuContext,
        prep: WeightPrep,
        prepared: &[f32],
    ) -> Result<(wgpu::Texture, wgpu::TextureView)> {
        let [kh, kw, cin_g, filters] = prep.kernel_shape(self.shape, self.groups);
        let rows = kh * kw * cin_g;
        let limit = ctx.caps.max_texture_2d as usize;
        if self.element != ElementType::F32 || !filters.is_multiple_of(4) || filters / 4 > limit || rows > limit {
            return Err(Error::Unsupported(format!(
                "internal: a {} kernel of {rows} rows x {filters} filters as a texture (at most {limit} x {limit} \
                 texels of 4 float32 filters)",
                self.element
            )));
        }
        buffers::upload_texture(ctx, prep.label(), prepared, ((filters / 4) as u32, rows as u32))
    }

    /// The weights in the layout `prep`, which [`GpuWeights::prepare`] must have uploaded.
    pub(crate) fn prepared(&self, prep: WeightPrep) -> Result<Arc<Prepared>> {
        self.prepared
            .lock()
            .map_err(|_| Error::PoisonedLock("a layer's resident weights"))?
            .get(&prep)
            .cloned()
            .ok_or_else(|| Error::Unsupported(format!("internal: the weights were not uploaded as {}", prep.label())))
    }
}
