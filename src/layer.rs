//! `Conv2d`: a Keras Conv2D layer: config, weights (HWIO kernel, bias, LoRA) and its forward pass.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::activation::Activation;
use crate::config::{Conv2dConfig, DataFormat};
use crate::cpu::reference;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::format::py_shape;
use crate::geometry::{four_d, Conv2dGeometry};
use crate::gpu::conv::{self as gpu_conv, GpuWeights};
use crate::gpu::{GpuContext, GpuTensor};
use crate::init::Initializer;
use crate::tensor::Tensor;

/// LoRA factors: the effective kernel is `W + (alpha/rank)·A@B`.
#[derive(Debug, Clone, PartialEq)]
struct Lora {
    rank: usize,
    alpha: f64,
    /// `alpha` as Keras writes it: the rank (an int) when defaulted.
    alpha_json: serde_json::Number,
    /// `(kh, kw, Cin/groups, rank)`.
    a: Vec<f32>,
    /// `(rank, filters)`.
    b: Vec<f32>,
}

static NEXT_WEIGHTS_VERSION: AtomicU64 = AtomicU64::new(1);

/// Says once per process that non-finite data sent a GPU call to the CPU path.
static NON_FINITE_NOTICE: std::sync::Once = std::sync::Once::new();

/// A fresh version number: GPU copies of weights with an older one are stale.
fn next_version() -> u64 {
    NEXT_WEIGHTS_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// The layer's weights on the last device it ran on; re-uploaded when the device or the weights change.
#[derive(Default)]
struct GpuWeightCache(Mutex<Option<Arc<GpuWeights>>>);

impl Clone for GpuWeightCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for GpuWeightCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for GpuWeightCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GpuWeightCache")
    }
}

/// The variables a built layer holds.
#[derive(Debug, Clone, PartialEq)]
struct Weights {
    /// Changes whenever any variable changes.
    version: u64,
    input_channels: usize,
    kernel: Vec<f32>,
    bias: Option<Vec<f32>>,
    lora: Option<Lora>,
}

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

    /// HWIO kernel shape for `input_channels`.
    fn kernel_shape_for(&self, input_channels: usize) -> [usize; 4] {
        let c = &self.config;
        [
            c.kernel_size[0] as usize,
            c.kernel_size[1] as usize,
            input_channels / c.groups as usize,
            c.filters as usize,
        ]
    }

    /// Keras's `build`: checks the input shape, then draws the kernel and bias from their
    /// initializers (`seed` for those without their own). Enables LoRA when the config has `lora_rank`.
    ///
    /// # Errors
    /// Keras's build errors (channels not divisible by groups, output size zero or negative),
    /// and an initializer's error for shapes it cannot fill.
    pub fn build(&mut self, input_shape: &[usize], seed: Option<u64>) -> Result<()> {
        let geometry = self.geometry_unchecked(input_shape)?;
        let shape = self.kernel_shape_for(geometry.in_c);
        let kernel = self.config.kernel_initializer.sample(&shape, seed)?;
        let bias = if self.config.use_bias {
            Some(
                self.config
                    .bias_initializer
                    .sample(&[shape[3]], seed.map(|s| s ^ 0xB1A5))?,
            )
        } else {
            None
        };
        self.weights = Some(Weights {
            version: next_version(),
            input_channels: geometry.in_c,
            kernel,
            bias,
            lora: None,
        });
        if let Some(rank) = self.config.lora_rank {
            let alpha = self.config.lora_alpha.as_ref().and_then(|a| a.as_f64());
            self.enable_lora(rank, alpha, seed.map(|s| s ^ 0x10AA))?;
            if let (Some(json), Some(l)) = (
                &self.config.lora_alpha,
                self.weights.as_mut().and_then(|w| w.lora.as_mut()),
            ) {
                l.alpha_json = json.clone();
            }
        }
        Ok(())
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
        let geometry = self.geometry(input_shape)?;
        let shape = geometry.output_shape();
        if self.config.activation == Activation::Glu {
            if shape[3] % 2 != 0 {
                return Err(Error::InvalidArgument(format!(
                    "axis size must be divisible by 2. Received: x.shape={} with axis=-1",
                    py_shape(&shape)
                )));
            }
            return Ok([shape[0], shape[1], shape[2], shape[3] / 2]);
        }
        Ok(shape)
    }

    fn built(&self, what: &'static str) -> Result<&Weights> {
        self.weights
            .as_ref()
            .ok_or_else(|| Error::NotBuilt(self.config.name.clone(), what))
    }

    /// The layer's variables in Keras's order: kernel, bias (if used), then `lora_kernel_a`,
    /// `lora_kernel_b` once LoRA is enabled. The kernel is the frozen base kernel, as in Keras.
    ///
    /// # Errors
    /// [`Error::NotBuilt`].
    pub fn get_weights(&self) -> Result<Vec<Tensor>> {
        let w = self.built("get_weights")?;
        let shape = self.kernel_shape_for(w.input_channels);
        let mut out = vec![Tensor::new(shape, w.kernel.clone())?];
        if let Some(b) = &w.bias {
            out.push(Tensor::new([b.len()], b.clone())?);
        }
        if let Some(l) = &w.lora {
            out.push(Tensor::new([shape[0], shape[1], shape[2], l.rank], l.a.clone())?);
            out.push(Tensor::new([l.rank, shape[3]], l.b.clone())?);
        }
        Ok(out)
    }

    /// Keras's `set_weights`, in [`Conv2d::get_weights`]'s order and shapes. On an unbuilt layer
    /// the input channel count is taken from the kernel (`Cin = kernel.shape[2]·groups`).
    ///
    /// # Errors
    /// [`Error::WeightCount`] or [`Error::WeightShape`] with Keras's messages.
    pub fn set_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        let c = &self.config;
        let input_channels = match (&self.weights, weights.first()) {
            (Some(w), _) => w.input_channels,
            (None, Some(k)) if k.shape().len() == 4 => k.shape()[2] * c.groups as usize,
            _ => 0,
        };
        // An unbuilt layer whose config sets `lora_rank` is built with LoRA, as Keras's `build` does.
        let configured = c.lora_rank.filter(|_| self.weights.is_none()).map(|rank| Lora {
            rank: rank as usize,
            alpha: c.lora_alpha.as_ref().and_then(|a| a.as_f64()).unwrap_or(rank as f64),
            alpha_json: c.lora_alpha.clone().unwrap_or_else(|| rank.into()),
            a: Vec::new(),
            b: Vec::new(),
        });
        let lora = self
            .weights
            .as_ref()
            .and_then(|w| w.lora.as_ref())
            .or(configured.as_ref());
        let kernel_shape = self.kernel_shape_for(input_channels);
        let mut expected: Vec<Vec<usize>> = vec![kernel_shape.to_vec()];
        if c.use_bias {
            expected.push(vec![c.filters as usize]);
        }
        if let Some(l) = lora {
            expected.push(vec![kernel_shape[0], kernel_shape[1], kernel_shape[2], l.rank]);
            expected.push(vec![l.rank, kernel_shape[3]]);
        }
        if weights.len() != expected.len() {
            return Err(Error::WeightCount {
                layer: c.name.clone(),
                expected: expected.len(),
                received: weights.len(),
            });
        }
        for (want, got) in expected.iter().zip(weights) {
            if want.as_slice() != got.shape() || input_channels == 0 {
                return Err(Error::WeightShape {
                    layer: c.name.clone(),
                    expected: want.clone(),
                    received: got.shape().to_vec(),
                });
            }
        }
        let mut it = weights.iter().map(|t| t.data().to_vec());
        let kernel = it.next().expect("counted above");
        let bias = if c.use_bias { it.next() } else { None };
        let lora = lora.map(|l| Lora {
            rank: l.rank,
            alpha: l.alpha,
            alpha_json: l.alpha_json.clone(),
            a: it.next().expect("counted above"),
            b: it.next().expect("counted above"),
        });
        self.weights = Some(Weights {
            version: next_version(),
            input_channels,
            kernel,
            bias,
            lora,
        });
        Ok(())
    }

    /// Keras's `enable_lora(rank, lora_alpha)`: freezes the kernel and adds `A` (he_uniform) and
    /// `B` (zeros); the forward pass then uses `W + (alpha/rank)·A@B`. `alpha` defaults to `rank`.
    ///
    /// # Errors
    /// Keras's three errors: a kernel constraint, an unbuilt layer, LoRA already enabled.
    pub fn enable_lora(&mut self, rank: u32, alpha: Option<f64>, seed: Option<u64>) -> Result<()> {
        if self.config.kernel_constraint.is_some() {
            return Err(Error::LoraWithConstraint);
        }
        let input_channels = self.weights.as_ref().ok_or(Error::LoraNotBuilt)?.input_channels;
        if self.weights.as_ref().is_some_and(|w| w.lora.is_some()) {
            return Err(Error::LoraAlreadyEnabled);
        }
        if rank == 0 {
            return Err(Error::InvalidArgument(
                "`rank` must be positive. Received rank=0.".into(),
            ));
        }
        let shape = self.kernel_shape_for(input_channels);
        let rank = rank as usize;
        let a = Initializer::get("he_uniform")?.sample(&[shape[0], shape[1], shape[2], rank], seed)?;
        let b = vec![0.0; rank * shape[3]];
        let alpha_json = match alpha {
            None => (rank as u64).into(),
            Some(a) => serde_json::Number::from_f64(a).ok_or_else(|| {
                Error::InvalidArgument(format!("`lora_alpha` must be finite. Received lora_alpha={a}."))
            })?,
        };
        let alpha = alpha.unwrap_or(rank as f64);
        if let Some(w) = self.weights.as_mut() {
            w.lora = Some(Lora {
                rank,
                alpha,
                alpha_json,
                a,
                b,
            });
        }
        Ok(())
    }

    /// The kernel the forward pass uses: the base kernel, merged with LoRA when enabled
    /// (`W'[i,j,c,o] = W + (alpha/rank)·Σ_k A[i,j,c,k]·B[k,o]`, rounded to f32 as Keras casts it).
    ///
    /// # Errors
    /// [`Error::NotBuilt`].
    pub fn kernel(&self) -> Result<Tensor> {
        let w = self.built("kernel")?;
        let shape = self.kernel_shape_for(w.input_channels);
        let Some(l) = &w.lora else {
            return Tensor::new(shape, w.kernel.clone());
        };
        let filters = shape[3];
        let scale = l.alpha / l.rank as f64;
        let merged = w
            .kernel
            .iter()
            .enumerate()
            .map(|(i, &base)| {
                let (row, o) = (i / filters, i % filters);
                let ab: f64 = (0..l.rank)
                    .map(|k| l.a[row * l.rank + k] as f64 * l.b[k * filters + o] as f64)
                    .sum();
                (base as f64 + scale * ab) as f32
            })
            .collect();
        Tensor::new(shape, merged)
    }

    /// The bias, if the layer uses one.
    ///
    /// # Errors
    /// [`Error::NotBuilt`].
    pub fn bias(&self) -> Result<Option<&[f32]>> {
        Ok(self.built("bias")?.bias.as_deref())
    }

    /// `activation(conv(x, kernel) + bias)` on the CPU reference path (f64 accumulation).
    ///
    /// # Errors
    /// Keras's input errors ([`Conv2d::geometry`]), [`Error::NotBuilt`], glu on an odd last axis.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor> {
        let out_shape = self.compute_output_shape(input.shape())?;
        let geometry = self.geometry(input.shape())?;
        let kernel = self.kernel()?;
        let raw = reference::conv2d(&geometry, input.data(), kernel.data(), self.bias()?);
        let (values, shape) = reference::activate(self.config.activation, &raw, geometry.output_shape());
        debug_assert_eq!(shape, out_shape);
        Tensor::new(shape, values.into_iter().map(|v| v as f32).collect())
    }

    /// `activation(conv(x, kernel) + bias)` on `device`: the CPU reference path or a GPU.
    /// On a GPU the weights are uploaded once per device and re-uploaded only when they change.
    ///
    /// Non-finite values: a GPU call whose input or weights hold NaN or ±Inf runs on the CPU
    /// reference path instead (said once per process), so NaN and Inf propagate exactly as in Keras.
    ///
    /// # Errors
    /// As [`Conv2d::forward`], plus the GPU's errors ([`Error::Gpu`], [`Error::DeviceLost`],
    /// [`Error::Timeout`], [`Error::OutOfMemory`], [`Error::Unsupported`] for a limit it cannot split).
    pub fn forward_on(&self, device: &Device, input: &Tensor) -> Result<Tensor> {
        let Device::Gpu(ctx) = device else {
            return self.forward(input);
        };
        let out_shape = self.compute_output_shape(input.shape())?;
        let geometry = self.geometry(input.shape())?;
        let weights = self.gpu_weights(ctx)?;
        // WGSL lets drivers assume finite math, so NaN/Inf would give unspecified results there:
        // such calls run on the CPU reference path, which propagates them as Keras does.
        if !weights.finite || !input.data().iter().all(|v| v.is_finite()) {
            NON_FINITE_NOTICE.call_once(|| {
                eprintln!("wgpu-conv2d: non-finite values in a layer's input or weights: running it on the CPU path")
            });
            return self.forward(input);
        }
        let (values, shape) = gpu_conv::run(ctx, &geometry, self.config.activation, input.data(), &weights)?;
        debug_assert_eq!(shape, out_shape);
        Tensor::new(shape, values)
    }

    /// The forward pass on a resident tensor: the output stays on the same device, so a chain of
    /// layers runs with one upload and one readback. Resident data is not scanned: NaN or ±Inf in
    /// it give unspecified values (WGSL's finite-math assumption); use [`Conv2d::forward_on`] for
    /// data that may hold them.
    ///
    /// # Errors
    /// As [`Conv2d::forward_on`]; [`Error::Unsupported`] when the call would need splitting.
    pub fn forward_gpu(&self, input: &GpuTensor) -> Result<GpuTensor> {
        let ctx = input.context();
        self.compute_output_shape(input.shape())?;
        let geometry = self.geometry(input.shape())?;
        let weights = self.gpu_weights(ctx)?;
        let (buffer, shape) = gpu_conv::run_resident(ctx, &geometry, self.config.activation, &input.buffer, &weights)?;
        Ok(GpuTensor {
            ctx: ctx.clone(),
            buffer,
            shape: shape.to_vec(),
        })
    }

    /// What a call on `input_shape` would run on `device`: the kernel and tile the planner chose and
    /// how the work is split, or the CPU reference path.
    ///
    /// # Errors
    /// As [`Conv2d::geometry`]; the planner's limit errors.
    pub fn describe_plan(&self, device: &Device, input_shape: &[usize]) -> Result<String> {
        let geometry = self.geometry(input_shape)?;
        Ok(match device {
            Device::Cpu => "cpu reference (f64 direct loops)".to_string(),
            Device::Gpu(ctx) => crate::gpu::planner::plan(&geometry, &ctx.plan_limits())?.describe(),
        })
    }

    /// The weights resident on `ctx`, uploading them when missing or stale.
    fn gpu_weights(&self, ctx: &Arc<GpuContext>) -> Result<Arc<GpuWeights>> {
        let version = self.built("forward_on")?.version;
        ctx.refresh_lost_state();
        ctx.check_alive()?;
        let mut cache = self
            .gpu_weights
            .0
            .lock()
            .map_err(|_| Error::Gpu("weight cache poisoned".into()))?;
        if let Some(w) = cache
            .as_ref()
            .filter(|w| w.context_id == ctx.id && w.version == version)
        {
            return Ok(w.clone());
        }
        let kernel = self.kernel()?;
        let shape: [usize; 4] = kernel
            .shape()
            .try_into()
            .map_err(|_| Error::SizeOverflow("kernel rank"))?;
        let groups = self.config.groups as usize;
        let uploaded = Arc::new(GpuWeights::upload(
            ctx,
            version,
            kernel.data(),
            shape,
            groups,
            self.bias()?,
        )?);
        *cache = Some(uploaded.clone());
        Ok(uploaded)
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

    /// The weight penalties Keras adds to `layer.losses`: the kernel regularizer on each trainable
    /// kernel variable (the kernel, or `A` and `B` once LoRA freezes it) plus the bias regularizer.
    ///
    /// # Errors
    /// [`Error::NotBuilt`]; OrthogonalRegularizer on a 4-D kernel (Keras's rank-2 error).
    pub fn weight_penalty(&self) -> Result<f64> {
        let w = self.built("weight_penalty")?;
        let shape = self.kernel_shape_for(w.input_channels);
        let mut total = 0.0;
        if let Some(r) = &self.config.kernel_regularizer {
            match &w.lora {
                None => total += r.penalty(&w.kernel, &shape)?,
                Some(l) => {
                    total += r.penalty(&l.a, &[shape[0], shape[1], shape[2], l.rank])?;
                    total += r.penalty(&l.b, &[l.rank, shape[3]])?;
                }
            }
        }
        if let (Some(r), Some(b)) = (&self.config.bias_regularizer, &w.bias) {
            total += r.penalty(b, &[b.len()])?;
        }
        Ok(total)
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

    /// Applies the kernel and bias constraints to the weights, as Keras's optimizer does after an update.
    ///
    /// # Errors
    /// [`Error::NotBuilt`]; a constraint axis outside the weight's rank.
    pub fn apply_constraints(&mut self) -> Result<()> {
        let shape = self.kernel_shape_for(self.built("apply_constraints")?.input_channels);
        let (kc, bc) = (
            self.config.kernel_constraint.clone(),
            self.config.bias_constraint.clone(),
        );
        let w = self.weights.as_mut().expect("checked built");
        w.version = next_version();
        if let Some(c) = kc {
            w.kernel = c.apply(&w.kernel, &shape)?;
        }
        if let (Some(c), Some(b)) = (bc, w.bias.as_mut()) {
            *b = c.apply(b, &[b.len()])?;
        }
        Ok(())
    }
}
