//! A layer's variables: kernel, bias and LoRA factors, their Keras checks, their version, and
//! their copies resident on a GPU.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::kernels::WeightPrep;
use crate::gpu::memory::weights::GpuWeights;
use crate::gpu::program::ElementType;
use crate::gpu::GpuContext;
use crate::keras::initializer::Initializer;
use crate::layer::Conv2d;
use crate::tensor::Tensor;

/// LoRA factors: the effective kernel is `W + (alpha/rank)·A@B`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Lora {
    pub(super) rank: usize,
    alpha: f64,
    /// `alpha` as Keras writes it: the rank (an int) when defaulted.
    pub(super) alpha_json: serde_json::Number,
    /// `(kh, kw, Cin/groups, rank)`.
    pub(super) a: Vec<f32>,
    /// `(rank, filters)`.
    pub(super) b: Vec<f32>,
}

static NEXT_WEIGHTS_VERSION: AtomicU64 = AtomicU64::new(1);

/// A fresh version number: GPU copies of weights with an older one are stale.
fn next_version() -> u64 {
    NEXT_WEIGHTS_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// The layer's weights on the last device it ran on; re-uploaded when the device or the weights change.
/// A kernel over the binding limit keeps its filter slices instead (see `filter_split`).
#[derive(Default)]
pub(super) struct GpuWeightCache {
    weights: Mutex<Option<Arc<GpuWeights>>>,
    pub(super) slices: Mutex<Option<Arc<super::filter_split::SlicedLayer>>>,
}

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
pub(super) struct Weights {
    /// Changes whenever any variable changes.
    pub(super) version: u64,
    pub(super) input_channels: usize,
    pub(super) kernel: Vec<f32>,
    pub(super) bias: Option<Vec<f32>>,
    pub(super) lora: Option<Lora>,
}

impl Conv2d {
    /// HWIO kernel shape for `input_channels`.
    pub(super) fn kernel_shape_for(&self, input_channels: usize) -> [usize; 4] {
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
        self.round_variables();
        Ok(())
    }

    pub(super) fn built(&self, what: &'static str) -> Result<&Weights> {
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
        self.round_variables();
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
        self.round_variables();
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

    /// The weights resident on `ctx` with the kernel in the layout `prep`, stored as `element`,
    /// uploading them when missing or stale.
    pub(super) fn gpu_weights(
        &self,
        ctx: &Arc<GpuContext>,
        (prep, element): (WeightPrep, ElementType),
    ) -> Result<Arc<GpuWeights>> {
        let version = self.built("forward_on")?.version;
        ctx.refresh_lost_state();
        ctx.check_alive()?;
        let mut cache = self
            .gpu_weights
            .weights
            .lock()
            .map_err(|_| Error::PoisonedLock("a layer's weight cache"))?;
        if let Some(w) = cache
            .as_ref()
            .filter(|w| w.context_id == ctx.id && w.version == version && w.element == element)
        {
            if !w.has(prep) {
                w.prepare(
                    ctx,
                    prep,
                    self.compute_kernel()?.data(),
                    self.compute_bias()?.as_deref(),
                )?;
            }
            return Ok(w.clone());
        }
        let kernel = self.compute_kernel()?;
        let bias = self.compute_bias()?;
        let shape: [usize; 4] = kernel
            .shape()
            .try_into()
            .map_err(|_| Error::SizeOverflow("kernel rank"))?;
        let groups = self.config.groups as usize;
        let uploaded = Arc::new(GpuWeights::upload(
            ctx,
            version,
            (kernel.data(), shape, groups),
            bias.as_deref(),
            (prep, element),
        )?);
        *cache = Some(uploaded.clone());
        Ok(uploaded)
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
        self.round_variables();
        Ok(())
    }
}
