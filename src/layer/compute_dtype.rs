//! Keras's dtype policies on a layer's variables: stored in the variable dtype, and cast to the
//! compute dtype for the convolution.

use crate::error::Result;
use crate::gpu::memory::binds::BindCache;
use crate::gpu::memory::tensor::TensorBuffer;
use crate::gpu::program::ElementType;
use crate::gpu::{side_passes, GpuTensor};
use crate::keras::dtype::FloatType;
use crate::tensor::Tensor;

use super::variables::Weights;
use super::Conv2d;

impl Weights {
    /// Every variable rounded to `dtype`, as Keras stores them in the policy's variable dtype.
    pub(super) fn round_to(&mut self, dtype: FloatType) {
        dtype.round_all(&mut self.kernel);
        if let Some(b) = self.bias.as_mut() {
            dtype.round_all(b);
        }
        if let Some(l) = self.lora.as_mut() {
            dtype.round_all(&mut l.a);
            dtype.round_all(&mut l.b);
        }
    }
}

impl Conv2d {
    /// Rounds the variables to the policy's variable dtype (a no-op for float32 variables).
    pub(super) fn round_variables(&mut self) {
        let dtype = self.config.dtype.variable_dtype();
        if let Some(w) = self.weights.as_mut() {
            w.round_to(dtype);
        }
    }

    /// The kernel as the convolution reads it: [`Conv2d::kernel`] cast to the policy's compute dtype.
    ///
    /// # Errors
    /// [`Error::NotBuilt`].
    pub fn compute_kernel(&self) -> Result<Tensor> {
        let kernel = self.kernel()?;
        let shape = kernel.shape().to_vec();
        let mut values = kernel.into_data();
        self.config.dtype.compute_dtype().round_all(&mut values);
        Tensor::new(shape, values)
    }

    /// The bias cast to the policy's compute dtype, if the layer uses one.
    ///
    /// # Errors
    /// [`Error::NotBuilt`].
    pub fn compute_bias(&self) -> Result<Option<Vec<f32>>> {
        let dtype = self.config.dtype.compute_dtype();
        Ok(self.bias()?.map(|b| {
            let mut b = b.to_vec();
            dtype.round_all(&mut b);
            b
        }))
    }

    /// `input` as this layer reads it when its plan stores `element`: Keras casts the input to
    /// the compute dtype, so a copy is made (one pass, into a new buffer) unless the input is
    /// already stored as `element` with values in that dtype; `None` when it is.
    pub(super) fn cast_input(
        &self,
        input: &GpuTensor,
        element: ElementType,
        binds: &BindCache,
    ) -> Result<Option<GpuTensor>> {
        let dtype = self.config.dtype.compute_dtype();
        let rounds = dtype != FloatType::Float32 && input.values_in != dtype;
        if !rounds && input.element == element {
            return Ok(None);
        }
        let ctx = input.context();
        let from_to = (input.element, element);
        let buffer = side_passes::convert_values(ctx, binds, (input.buffer.bound(), input.len()), from_to, dtype)?;
        Ok(Some(GpuTensor {
            ctx: ctx.clone(),
            buffer: TensorBuffer::Pooled(buffer),
            shape: input.shape.clone(),
            element,
            values_in: if rounds { dtype } else { input.values_in },
        }))
    }
}
