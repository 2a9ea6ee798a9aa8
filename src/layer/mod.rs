//! `Conv2d`: a Keras Conv2D layer: config, weights (HWIO kernel, bias, LoRA) and its forward pass.

use serde_json::Value;

use crate::conv::geometry::{four_d, Conv2dGeometry};
use crate::conv::DataFormat;
use crate::cpu::reference;
use crate::device::Device;
use crate::error::format::py_shape;
use crate::error::{Error, Result};
use crate::gpu::kernels::Epilogue;
use crate::gpu::memory::tensor::TensorBuffer;
use crate::gpu::{execute, plan, GpuTensor};
use crate::keras::activation::Activation;
use crate::keras::config::Conv2dConfig;
use crate::tensor::Tensor;

mod compute_dtype;
mod filter_split;
mod variables;

use variables::{GpuWeightCache, Weights};

/// Says once per process that non-finite data sent a GPU call to the CPU path.
static NON_FINITE_NOTICE: std::sync::Once = std::sync::Once::new();

/// A Keras `Conv2D` layer.
///
/// ```
/// use wgpu_conv2d::{Conv2d, Conv2dConfig, Tensor};
/// let config = Conv2dConfig::builder(2, 3).padding("same").activation("relu").build()?;
/// let mut layer = Conv2d::new(config)?;
/// layer.build(&[1, 5, 5, 3], Some(7))?;
/// let y = layer.forward(&Tensor::new([1, 5, 5, 3], vec![0.5; 75])?)?;
/// assert_eq!(y.shape(), &[1, 5, 5, 2]);
/// # Ok::<(), wgpu_conv2d::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    config: Conv2dConfig,
    weights: Option<Weights>,
    gpu_weights: GpuWeightCache,
}
impl Conv2d {
    /// An unbuilt layer (no weights yet).
    ///
    /// # Errors
    /// The config's own invariants ([`Conv2dConfig::validate`]).
    pub fn new(config: Conv2dConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            weights: None,
            gpu_weights: GpuWeightCache::default(),
        })
    }

    /// A layer from `layer.get_config()` JSON (see [`Conv2dConfig::from_keras_json`]).
    ///
    /// # Errors
    /// As [`Conv2dConfig::from_keras_json`].
    pub fn from_keras_json(text: &str) -> Result<Self> {
        Self::new(Conv2dConfig::from_keras_json(text)?)
    }

    /// A built layer holding the given HWIO kernel `(kh, kw, Cin/groups, filters)` and bias.
    ///
    /// # Errors
    /// [`Error::WeightShape`] / [`Error::WeightCount`] when they do not fit the config.
    pub fn with_weights(config: Conv2dConfig, kernel: Tensor, bias: Option<Tensor>) -> Result<Self> {
        let mut layer = Self::new(config)?;
        let weights: Vec<Tensor> = std::iter::once(kernel).chain(bias).collect();
        layer.set_weights(&weights)?;
        Ok(layer)
    }

    /// The layer's configuration.
    pub fn config(&self) -> &Conv2dConfig {
        &self.config
    }

    /// `get_config()` as Keras writes it, including `lora_rank`/`lora_alpha` once LoRA is enabled.
    pub fn get_config(&self) -> Value {
        let mut config = self.config.clone();
        if let Some(lora) = self.weights.as_ref().and_then(|w| w.lora.as_ref()) {
            config.lora_rank = Some(lora.rank as u32);
            config.lora_alpha = Some(lora.alpha_json.clone());
        }
        config.to_keras_value()
    }

    /// True once the layer has weights.
    pub fn is_built(&self) -> bool {
        self.weights.is_some()
    }

    /// The input channel count the layer was built for.
    pub fn input_channels(&self) -> Option<usize> {
        self.weights.as_ref().map(|w| w.input_channels)
    }

    /// The geometry of a call on `input_shape`, with Keras's input checks (rank, channels).
    ///
    /// # Errors
    /// [`Error::InputRank`], [`Error::InputChannelMismatch`], and the build-time errors.
    pub fn geometry(&self, input_shape: &[usize]) -> Result<Conv2dGeometry> {
        let geometry = self.geometry_unchecked(input_shape)?;
        if let Some(expected) = self.input_channels() {
            if geometry.in_c != expected {
                return Err(Error::InputChannelMismatch {
                    layer: self.config.name.clone(),
                    axis: if self.config.data_format == DataFormat::ChannelsLast {
                        -1
                    } else {
                        1
                    },
                    expected,
                    input_shape: input_shape.to_vec(),
                });
            }
        }
        Ok(geometry)
    }

    fn geometry_unchecked(&self, input_shape: &[usize]) -> Result<Conv2dGeometry> {
        let params = self.config.params();
        let shape = four_d(&self.config.name, input_shape, &params)?;
        if shape[if params.data_format == DataFormat::ChannelsLast {
            3
        } else {
            1
        }] == 0
        {
            return Err(Error::InvalidArgument(format!(
                "Input 0 of layer '{}' has 0 channels (full input shape is {}): a convolution needs at least one input channel.",
                self.config.name,
                py_shape(input_shape)
            )));
        }
        Conv2dGeometry::new(&params, shape)
    }

    /// The output shape for `input_shape` (Keras's `compute_output_shape`; glu halves the last axis).
    ///
    /// # Errors
    /// As [`Conv2d::geometry`]; glu on an odd last axis.
    pub fn compute_output_shape(&self, input_shape: &[usize]) -> Result<[usize; 4]> {
        self.activated_shape(&self.geometry(input_shape)?)
    }

    /// The activated output shape of a call with `geometry`, with Keras's check of glu's axis.
    fn activated_shape(&self, geometry: &Conv2dGeometry) -> Result<[usize; 4]> {
        let shape = geometry.output_shape();
        if self.config.activation == Activation::Glu && !shape[3].is_multiple_of(2) {
            return Err(Error::InvalidArgument(format!(
                "axis size must be divisible by 2. Received: x.shape={} with axis=-1",
                py_shape(&shape)
            )));
        }
        Ok(self.config.activation.output_shape(shape))
    }

    /// What the GPU's write step does for this layer.
    fn epilogue(&self) -> Result<Epilogue> {
        let dtype = self.config.dtype.compute_dtype();
        Ok(Epilogue::new(self.config.activation, self.bias()?.is_some()).rounded_to(dtype))
    }

    /// The write step of one filter slice: the element-wise part of the activation only.
    fn slice_epilogue(&self) -> Result<Epilogue> {
        let activation = match self.config.activation {
            a if a.is_axis_reduction() => Activation::Linear,
            a => a,
        };
        let dtype = self.config.dtype.compute_dtype();
        Ok(Epilogue::new(activation, self.bias()?.is_some()).rounded_to(dtype))
    }

    /// `activation(conv(x, kernel) + bias)` on the CPU reference path (f64 accumulation), in the
    /// dtype policy's compute dtype: with a half-precision policy the input, kernel and bias are
    /// rounded to it, and so are the convolution, the bias add and the activation, as in Keras.
    ///
    /// # Errors
    /// Keras's input errors ([`Conv2d::geometry`]), [`Error::NotBuilt`], glu on an odd last axis.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let geometry = self.geometry(input.shape())?;
        self.forward_cpu(&geometry, input)
    }

    fn forward_cpu(&self, geometry: &Conv2dGeometry, input: &Tensor) -> Result<Tensor> {
        let out_shape = self.activated_shape(geometry)?;
        let dtype = self.config.dtype.compute_dtype();
        let kernel = self.compute_kernel()?;
        let bias = self.compute_bias()?;
        let mut x = std::borrow::Cow::Borrowed(input.data());
        dtype.round_all_cow(&mut x); // Keras casts the input to the compute dtype
        let operands = (x.as_ref(), kernel.data(), bias.as_deref());
        let (values, shape) = reference::forward_in(geometry, operands, self.config.activation, dtype);
        debug_assert_eq!(shape, out_shape);
        Tensor::new(shape, values.into_iter().map(|v| v as f32).collect())
    }

    /// `activation(conv(x, kernel) + bias)` on `device`: the CPU reference path or a GPU.
    /// On a GPU the weights are uploaded once per device and re-uploaded only when they change.
    ///
    /// Non-finite values: a GPU call whose input or weights hold NaN or ±Inf (after the cast to
    /// the compute dtype: float16 turns values past 65504 into inf) runs on the CPU reference path
    /// instead (said once per process), so NaN and Inf propagate exactly as in Keras.
    ///
    /// # Errors
    /// As [`Conv2d::forward`], plus the GPU's errors ([`Error::Validation`], [`Error::DeviceLost`],
    /// [`Error::Timeout`], [`Error::OutOfMemory`], [`Error::Unsupported`] for a limit it cannot split).
    pub fn forward_on(&self, device: &Device, input: &Tensor) -> Result<Tensor> {
        let Device::Gpu(ctx) = device else {
            return self.forward(input);
        };
        let geometry = self.geometry(input.shape())?;
        let out_shape = self.activated_shape(&geometry)?;
        // Keras casts the input to the compute dtype; a value past float16's range becomes inf there.
        let dtype = self.config.dtype.compute_dtype();
        let mut x = std::borrow::Cow::Borrowed(input.data());
        dtype.round_all_cow(&mut x);
        // WGSL lets drivers assume finite math, so NaN/Inf would give unspecified results there:
        // such calls run on the CPU reference path, which propagates them as Keras does.
        let finite_input = x.iter().all(|v| v.is_finite());
        if let Some(slices) = self.filter_slices(ctx, &geometry)? {
            if finite_input && self.sliced(ctx, &slices)?.finite {
                let resident =
                    GpuTensor::upload_rounded(ctx, &Tensor::new(input.shape().to_vec(), x.into_owned())?, dtype)?;
                return self.forward_sliced(&geometry, &slices, &resident)?.download();
            }
        } else {
            let plan = plan::for_context(ctx, &geometry, self.epilogue()?)?;
            let weights = self.gpu_weights(ctx, (plan.weight_prep, plan.element))?;
            if finite_input && weights.finite {
                let values = execute::run(ctx, &geometry, &plan, &x, &weights)?;
                debug_assert_eq!(plan.output_shape, out_shape);
                return Tensor::new(out_shape, values);
            }
        }
        NON_FINITE_NOTICE
            .call_once(|| log::warn!("non-finite values in a layer's input or weights: running it on the CPU path"));
        self.forward_cpu(&geometry, input)
    }

    /// The forward pass on a resident tensor: the output stays on the same device, so a chain of
    /// layers runs with one upload and one readback. Resident data is not scanned: NaN or ±Inf in
    /// it give unspecified values (WGSL's finite-math assumption); use [`Conv2d::forward_on`] for
    /// data that may hold them.
    ///
    /// Tensors over the device's binding limit are split as host calls are, with the pieces copied
    /// on the GPU.
    ///
    /// # Errors
    /// As [`Conv2d::forward_on`].
    pub fn forward_gpu(&self, input: &GpuTensor) -> Result<GpuTensor> {
        let ctx = input.context();
        let geometry = self.geometry(input.shape())?;
        if let Some(slices) = self.filter_slices(ctx, &geometry)? {
            return self.forward_sliced(&geometry, &slices, input);
        }
        let out_shape = self.activated_shape(&geometry)?;
        let plan = plan::for_context(ctx, &geometry, self.epilogue()?)?;
        let weights = self.gpu_weights(ctx, (plan.weight_prep, plan.element))?;
        let cast = self.cast_input(input, plan.element, &weights.binds)?;
        let source = cast.as_ref().unwrap_or(input);
        let buffer = execute::run_resident(ctx, &geometry, &plan, source.buffer.bound(), &weights)?;
        drop(cast); // back to the pool only once the work that reads it is queued
        Ok(GpuTensor {
            ctx: ctx.clone(),
            buffer: TensorBuffer::Pooled(buffer),
            shape: out_shape.to_vec(),
            element: plan.element,
            values_in: self.config.dtype.compute_dtype(),
        })
    }

    /// What a call on `input_shape` would run on `device`: the algorithm and tile the planner chose
    /// and how the work is split, or the CPU reference path.
    ///
    /// # Errors
    /// As [`Conv2d::geometry`]; [`Error::NotBuilt`]; the planner's limit errors.
    pub fn describe_plan(&self, device: &Device, input_shape: &[usize]) -> Result<String> {
        let plan = match self.plan_on(device, input_shape)? {
            None => return Ok("cpu reference (f64 direct loops)".to_string()),
            Some(plan) => plan.describe(),
        };
        if let Device::Gpu(ctx) = device {
            if let Some(slices) = self.filter_slices(ctx, &self.geometry(input_shape)?)? {
                let most = slices.iter().map(|s| s.per_group).max().unwrap_or(0);
                return Ok(format!(
                    "kernel over the binding limit: {} slices of up to {most} filters per group, each {plan}, merged",
                    slices.len()
                ));
            }
        }
        Ok(plan)
    }

    /// The plan a call on `input_shape` would run on `device` (`None` on the CPU path): the
    /// algorithm chosen as a typed value, each chunk's passes and dispatch. For a kernel over the
    /// binding limit, the plan of its first filter slice ([`Conv2d::describe_plan`] says so).
    ///
    /// # Errors
    /// As [`Conv2d::describe_plan`].
    pub fn plan_on(&self, device: &Device, input_shape: &[usize]) -> Result<Option<plan::Plan>> {
        let geometry = self.geometry(input_shape)?;
        match device {
            Device::Cpu => Ok(None),
            Device::Gpu(ctx) => match self.filter_slices(ctx, &geometry)? {
                None => Ok(Some(plan::for_context(ctx, &geometry, self.epilogue()?)?)),
                Some(slices) => {
                    let first = plan::filter_split::slice_geometry(&geometry, slices[0].per_group);
                    Ok(Some(plan::for_context(ctx, &first, self.slice_epilogue()?)?))
                }
            },
        }
    }

    /// Keras's `convolution_op(inputs, kernel)`: the convolution alone, no bias, no activation,
    /// with any HWIO `kernel` of this layer's kernel size, `(kh, kw, Cin/groups, F')` with F'
    /// divisible by `groups`.
    ///
    /// # Errors
    /// Input errors as [`Conv2d::geometry`]; [`Error::WeightShape`] for a kernel that does not fit.
    pub fn convolution_op(&self, input: &Tensor, kernel: &Tensor) -> Result<Tensor> {
        let c = &self.config;
        let ks = kernel.shape();
        let fits = ks.len() == 4
            && ks[0] == c.kernel_size[0] as usize
            && ks[1] == c.kernel_size[1] as usize
            && ks[3] > 0
            && ks[3].is_multiple_of(c.groups as usize);
        let mut params = c.params();
        if !fits {
            let expected = self.kernel_shape_for(self.input_channels().unwrap_or(0)).to_vec();
            return Err(Error::WeightShape {
                layer: c.name.clone(),
                expected,
                received: ks.to_vec(),
            });
        }
        params.filters = u32::try_from(ks[3]).map_err(|_| Error::SizeOverflow("filters"))?;
        let shape = four_d(&c.name, input.shape(), &params)?;
        let geometry = Conv2dGeometry::new(&params, shape)?;
        if geometry.cin_per_group() != ks[2] {
            return Err(Error::WeightShape {
                layer: c.name.clone(),
                expected: geometry.kernel_shape().to_vec(),
                received: ks.to_vec(),
            });
        }
        let raw = reference::conv2d(&geometry, input.data(), kernel.data(), None);
        Tensor::new(geometry.output_shape(), raw.into_iter().map(|v| v as f32).collect())
    }

    /// The activity penalty on a call's output: `activity_regularizer(output) / batch_size`
    /// (0 for an empty batch, as Keras's `divide_no_nan`).
    ///
    /// # Errors
    /// The regularizer's own errors.
    pub fn activity_penalty(&self, output: &Tensor) -> Result<f64> {
        let Some(r) = &self.config.activity_regularizer else {
            return Ok(0.0);
        };
        let batch = output.shape().first().copied().unwrap_or(0);
        if batch == 0 {
            return Ok(0.0);
        }
        Ok(r.penalty(output.data(), output.shape())? / batch as f64)
    }
}
