//! `GpuTensor`: a tensor resident on a device, so a chain of layers pays one upload and one
//! readback; it can wrap a caller's `wgpu::Buffer` and lend its own, so a caller's passes feed and
//! consume tensors with no copy through the host.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::device::GpuContext;
use crate::gpu::memory::binds::Bound;
use crate::gpu::memory::buffers;
use crate::gpu::memory::pool::{self, PooledBuffer};
use crate::gpu::program::ElementType;
use crate::keras::dtype::FloatType;
use crate::tensor::Tensor;

/// The buffer behind a tensor: one of the context's pool (back there when dropped), or a caller's.
#[derive(Debug)]
pub(crate) enum TensorBuffer {
    Pooled(PooledBuffer),
    External { id: u64, buffer: wgpu::Buffer },
}

impl TensorBuffer {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        match self {
            Self::Pooled(b) => b.buffer(),
            Self::External { buffer, .. } => buffer,
        }
    }

    pub(crate) fn bound(&self) -> Bound<'_> {
        match self {
            Self::Pooled(b) => Bound::buffer(b.id(), b.buffer()),
            Self::External { id, buffer } => Bound::buffer(*id, buffer),
        }
    }
}

/// Data in a storage buffer of one [`GpuContext`], with its shape and element type.
#[derive(Debug)]
pub struct GpuTensor {
    pub(crate) ctx: Arc<GpuContext>,
    pub(crate) buffer: TensorBuffer,
    pub(crate) shape: Vec<usize>,
    pub(crate) element: ElementType,
    /// The float type every value is exactly representable in (float32 when not known): a
    /// half-precision layer's output is in its compute dtype, and the next layer of that policy
    /// then reads it without rounding it again.
    pub(crate) values_in: FloatType,
}

impl GpuTensor {
    /// The usages a buffer given to [`GpuTensor::from_buffer`] must have: bound as storage by the
    /// kernels, copied from by [`GpuTensor::download`].
    pub const REQUIRED_USAGES: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_SRC);

    /// Uploads `tensor` to `ctx`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when it exceeds one binding (`forward_on` with host data splits
    /// such tensors; a resident one must fit); the GPU's errors.
    pub fn upload(ctx: &Arc<GpuContext>, tensor: &Tensor) -> Result<Self> {
        Self::upload_as(ctx, tensor, ElementType::F32)
    }

    /// Uploads `tensor` for layers computing in `dtype`: rounded to it on the host (as Keras casts
    /// a layer's input) and stored as such a layer's plan stores it (f16 for float16 where the
    /// device has `SHADER_F16`, bf16 for bfloat16), so those layers read it with no conversion pass.
    ///
    /// # Errors
    /// As [`GpuTensor::upload`].
    pub fn upload_rounded(ctx: &Arc<GpuContext>, tensor: &Tensor, dtype: FloatType) -> Result<Self> {
        let mut values = tensor.data().to_vec();
        dtype.round_all(&mut values);
        let element = crate::gpu::plan::element_for(&ctx.caps, dtype);
        let mut t = Self::upload_as(ctx, &Tensor::new(tensor.shape().to_vec(), values)?, element)?;
        t.values_in = dtype;
        Ok(t)
    }

    /// Uploads `tensor` to `ctx` stored as `element`: [`ElementType::F16`] or
    /// [`ElementType::BF16`] (values rounded to nearest even) halves the upload and the memory
    /// for a chain of half-precision layers.
    ///
    /// # Errors
    /// As [`GpuTensor::upload`]; [`Error::Unsupported`] for f16 on a device without `SHADER_F16`.
    pub fn upload_as(ctx: &Arc<GpuContext>, tensor: &Tensor, element: ElementType) -> Result<Self> {
        if !ctx.caps.supports_element(element) {
            return Err(Error::Unsupported(format!(
                "{element} tensors need the SHADER_F16 feature, which this device lacks"
            )));
        }
        let bytes = element
            .bytes_of(tensor.len())
            .ok_or(Error::SizeOverflow("tensor bytes"))?;
        // Layers split a tensor over the binding limit into bands; one buffer must still hold it.
        let limit = ctx.caps.max_buffer;
        if bytes > limit {
            return Err(Error::Unsupported(format!(
                "a resident GpuTensor of {bytes} bytes exceeds the device's largest buffer ({limit} bytes)"
            )));
        }
        let _exclusive = ctx.exclusive();
        let buffer = buffers::upload_pooled(ctx, "wgpu-conv2d tensor", element, tensor.data())?;
        Ok(Self {
            ctx: ctx.clone(),
            buffer: TensorBuffer::Pooled(buffer),
            shape: tensor.shape().to_vec(),
            element,
            values_in: match element {
                ElementType::F32 => FloatType::Float32,
                ElementType::F16 => FloatType::Float16,
                ElementType::BF16 => FloatType::BFloat16,
            },
        })
    }

    /// Wraps `buffer`, which holds f32 values of `shape` (row-major, in the layer's data format)
    /// from byte 0, as a tensor of `ctx`: a layer's [`crate::Conv2d::forward_gpu`] then reads it in
    /// place. The buffer must belong to `ctx`'s device (wgpu cannot check this), have at least
    /// [`GpuTensor::REQUIRED_USAGES`] (`STORAGE | COPY_SRC`), hold `4 · len` bytes or more, and be
    /// a multiple of 16 bytes long (the kernels read whole vec4s). Work you submitted to the same queue before the call is ordered before
    /// it; the tensor keeps a handle to the buffer and never writes to it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the rule: missing usages, too small, over the binding
    /// limit, or a shape whose size overflows.
    pub fn from_buffer(ctx: &Arc<GpuContext>, buffer: wgpu::Buffer, shape: &[usize]) -> Result<Self> {
        let element = ElementType::F32;
        let len = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or(Error::SizeOverflow("tensor shape"))?;
        let needed = element.bytes_of(len).ok_or(Error::SizeOverflow("tensor bytes"))?;
        let usage = buffer.usage();
        if !usage.contains(Self::REQUIRED_USAGES) {
            return Err(Error::InvalidArgument(format!(
                "GpuTensor::from_buffer: the buffer's usages are {usage:?}; a tensor's buffer needs at least \
                 {:?}",
                Self::REQUIRED_USAGES
            )));
        }
        if buffer.size() < needed {
            return Err(Error::InvalidArgument(format!(
                "GpuTensor::from_buffer: the buffer holds {} bytes; shape {shape:?} of {element} needs {needed}",
                buffer.size()
            )));
        }
        if !buffer.size().is_multiple_of(16) {
            return Err(Error::InvalidArgument(format!(
                "GpuTensor::from_buffer: the buffer's size ({} bytes) must be a multiple of 16: the \
                 kernels read tensors in whole vec4s",
                buffer.size()
            )));
        }
        Ok(Self {
            ctx: ctx.clone(),
            buffer: TensorBuffer::External {
                id: pool::next_id(),
                buffer,
            },
            shape: shape.to_vec(),
            element,
            values_in: FloatType::Float32,
        })
    }

    /// The float type every value is known to be exactly representable in: a half-precision
    /// layer's compute dtype for its output, float32 for uploaded or wrapped data.
    pub fn values_dtype(&self) -> FloatType {
        self.values_in
    }

    /// The buffer holding the data, to bind in your own passes. The tensor's values are its first
    /// `4 · len` bytes (f32, row-major); the crate's own output buffers have `STORAGE | COPY_SRC |
    /// COPY_DST` usage and may be larger. Do not write to it while a layer reads it.
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.buffer()
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Element count.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How the elements are stored.
    pub fn element_type(&self) -> ElementType {
        self.element
    }

    /// The context the data lives on.
    pub fn context(&self) -> &Arc<GpuContext> {
        &self.ctx
    }

    /// Reads the data back to the host (waits, bounded by the context's timeout).
    ///
    /// # Errors
    /// The GPU's errors ([`Error::Timeout`], [`Error::DeviceLost`], ...).
    pub fn download(&self) -> Result<Tensor> {
        if self.is_empty() {
            return Tensor::zeros(self.shape.clone());
        }
        let _exclusive = self.ctx.exclusive();
        let encoder = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("download"),
        });
        let values = buffers::submit_and_read(&self.ctx, encoder, self.buffer.buffer(), self.element, self.len())?;
        Tensor::new(self.shape.clone(), values)
    }
}
