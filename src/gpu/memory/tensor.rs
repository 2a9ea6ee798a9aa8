//! `GpuTensor`: a tensor resident on a device, so a chain of layers pays one upload and one readback.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::device::GpuContext;
use crate::gpu::memory::buffers;
use crate::gpu::memory::pool::PooledBuffer;
use crate::gpu::program::ElementType;
use crate::tensor::Tensor;

/// Data in a storage buffer of one [`GpuContext`], with its shape and element type.
#[derive(Debug)]
pub struct GpuTensor {
    pub(crate) ctx: Arc<GpuContext>,
    pub(crate) buffer: PooledBuffer,
    pub(crate) shape: Vec<usize>,
    pub(crate) element: ElementType,
}

impl GpuTensor {
    /// Uploads `tensor` to `ctx`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when it exceeds one binding (`forward_on` with host data splits
    /// such tensors; a resident one must fit); the GPU's errors.
    pub fn upload(ctx: &Arc<GpuContext>, tensor: &Tensor) -> Result<Self> {
        let element = ElementType::F32;
        let bytes = element
            .bytes_of(tensor.len())
            .ok_or(Error::SizeOverflow("tensor bytes"))?;
        let limit = ctx.caps.max_tensor_bytes();
        if bytes > limit {
            return Err(Error::Unsupported(format!(
                "a resident GpuTensor of {bytes} bytes exceeds the device limit of {limit} bytes per binding; \
                 run forward_on with host data, which splits it"
            )));
        }
        let _exclusive = ctx.exclusive();
        let buffer = buffers::upload_pooled(ctx, "wgpu-conv2d tensor", element, tensor.data())?;
        Ok(Self {
            ctx: ctx.clone(),
            buffer,
            shape: tensor.shape().to_vec(),
            element,
        })
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
