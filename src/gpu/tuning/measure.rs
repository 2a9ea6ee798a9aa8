//! Timing the candidates of one geometry on the device: the same random input and weights for
//! all, the rules' algorithm first (its output is the reference the others must match), each
//! compiled and checked on a first call, then timed over a few calls, the median kept: GPU
//! timestamps around each call where the device has them (`timer.rs`), else submit + wait on a
//! wall clock; the time budget stops further candidates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::conv::{Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::GpuContext;
use crate::gpu::execute;
use crate::gpu::kernels::{self, Algorithm, Epilogue};
use crate::gpu::memory::tensor::TensorBuffer;
use crate::gpu::memory::weights::GpuWeights;
use crate::gpu::plan;
use crate::gpu::program::ElementType;
use crate::gpu::tuning::pick::{self, Measurement};
use crate::gpu::tuning::timer::GpuTimer;
use crate::gpu::tuning::Choice;
use crate::gpu::GpuTensor;
use crate::keras::dtype::FloatType;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Timed calls per candidate after the first (fewer once the budget is spent).
const RUNS: usize = 5;

/// The operands every candidate convolves.
struct Operands {
    input: GpuTensor,
    kernel: Vec<f32>,
    shape: [usize; 4],
    bias: Option<Vec<f32>>,
}

fn operands(ctx: &Arc<GpuContext>, g: &Conv2dGeometry, element: ElementType, epilogue: &Epilogue) -> Result<Operands> {
    let dtype = epilogue.round;
    let mut rng = Rng::new(0x7u64 ^ (g.in_c as u64) << 8 ^ (g.filters as u64) << 24);
    let in_shape = match g.data_format {
        DataFormat::ChannelsLast => [g.batch, g.in_h, g.in_w, g.in_c],
        DataFormat::ChannelsFirst => [g.batch, g.in_c, g.in_h, g.in_w],
    };
    let mut x: Vec<f32> = (0..in_shape.iter().product::<usize>())
        .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
        .collect();
    dtype.round_all(&mut x);
    let shape = g.kernel_shape();
    let taps = (shape[0] * shape[1] * shape[2]).max(1) as f64;
    let mut kernel: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| (rng.uniform_in(-1.0, 1.0) / taps.sqrt()) as f32)
        .collect();
    dtype.round_all(&mut kernel);
    let bias = epilogue.has_bias.then(|| {
        let mut b: Vec<f32> = (0..g.filters).map(|_| rng.uniform_in(-0.5, 0.5) as f32).collect();
        dtype.round_all(&mut b);
        b
    });
    let mut input = GpuTensor::upload_as(ctx, &Tensor::new(in_shape, x)?, element)?;
    input.values_in = dtype;
    Ok(Operands {
        input,
        kernel,
        shape,
        bias,
    })
}

/// Largest difference of `got` from `want` in units of the tolerance: 1e-4 of the output's scale
/// for float32 (sums in another order), 2 units in the last place of a half type (TESTING.md B6).
fn error_units(got: &[f32], want: &[f32], dtype: FloatType) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)).max(1e-30);
    let tolerance = match dtype {
        FloatType::Float32 => 1e-4 * scale,
        half => 2.0 * half.epsilon() * scale,
    };
    got.iter().zip(want).fold(0.0f64, |worst, (a, b)| {
        let d = (*a as f64 - *b as f64).abs();
        // NaN anywhere is as wrong as it gets.
        if d.is_nan() {
            f64::INFINITY
        } else {
            worst.max(d / tolerance)
        }
    })
}

/// One candidate's first-call output and its median time per call.
fn time_one(
    ctx: &Arc<GpuContext>,
    g: &Conv2dGeometry,
    algorithm: &'static dyn Algorithm,
    (element, epilogue): (ElementType, &Epilogue),
    ops: &Operands,
    deadline: Instant,
) -> Result<(Vec<f32>, f64)> {
    let (packing, _) = kernels::run_geometry(algorithm, g);
    let plan = plan::plan_with(algorithm, g, packing, ctx.caps(), element, *epilogue)?;
    let weights = GpuWeights::upload(
        ctx,
        0,
        (&ops.kernel, ops.shape, g.groups),
        ops.bias.as_deref(),
        (plan.weight_prep, element),
    )?;
    let run = || execute::run_resident(ctx, g, &plan, ops.input.buffer.bound(), &weights);
    let timer = GpuTimer::new(ctx);
    let first = GpuTensor {
        ctx: ctx.clone(),
        buffer: TensorBuffer::Pooled(run()?),
        shape: plan.output_shape.to_vec(),
        element,
        values_in: epilogue.round,
    };
    let values = first.download()?.data().to_vec();
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let gpu_ms = match &timer {
            Some(t) => t.time(ctx, run)?.1,
            None => {
                let out = run()?;
                ctx.wait_idle()?;
                drop(out);
                None
            }
        };
        times.push(gpu_ms.unwrap_or_else(|| start.elapsed().as_secs_f64() * 1e3));
        if Instant::now() >= deadline {
            break;
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((values, times[times.len() / 2]))
}

/// Times `candidates` (with `rules` first) on `g` within about `budget` and picks one.
///
/// # Errors
/// When no candidate ran correctly, or the operands could not be uploaded.
pub(super) fn tune(
    ctx: &Arc<GpuContext>,
    g: &Conv2dGeometry,
    element: ElementType,
    epilogue: &Epilogue,
    rules: &'static dyn Algorithm,
    candidates: &[&'static dyn Algorithm],
    budget: Duration,
) -> Result<Choice> {
    let started = Instant::now();
    let deadline = started + budget;
    let ops = operands(ctx, g, element, epilogue)?;
    let order = std::iter::once(rules).chain(candidates.iter().copied().filter(|a| a.id() != rules.id()));
    let mut reference: Option<Vec<f32>> = None;
    let mut measured = Vec::new();
    for (i, algorithm) in order.enumerate() {
        if i > 0 && Instant::now() >= deadline {
            log::info!("tuning budget of {budget:?} spent: {} not timed", algorithm.name());
            continue;
        }
        let m = match time_one(ctx, g, algorithm, (element, epilogue), &ops, deadline) {
            Ok((values, ms)) => {
                let error = reference
                    .as_ref()
                    .map_or(0.0, |want| error_units(&values, want, epilogue.round));
                if reference.is_none() {
                    reference = Some(values);
                }
                if error > 1.0 {
                    log::warn!(
                        "tuning: {} differs from {} by {error:.2}x the tolerance: not a candidate",
                        algorithm.name(),
                        rules.name()
                    );
                }
                Measurement {
                    algorithm: algorithm.id(),
                    ms: Some(ms),
                    error,
                }
            }
            Err(e) => {
                log::warn!("tuning: {} failed: {e}", algorithm.name());
                Measurement {
                    algorithm: algorithm.id(),
                    ms: None,
                    error: f64::INFINITY,
                }
            }
        };
        log::debug!("tuning {}: {m:?}", algorithm.name());
        measured.push(m);
    }
    let (chosen, ms) = pick::pick(rules.id(), &measured)
        .ok_or_else(|| Error::Unsupported("no tuning candidate ran correctly".to_string()))?;
    let rules_ms = measured
        .iter()
        .find(|m| m.algorithm == rules.id())
        .and_then(|m| m.ms)
        .unwrap_or(f64::NAN);
    Ok(Choice {
        algorithm: chosen.0.to_string(),
        ms,
        rules: rules.name().to_string(),
        rules_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_in_tolerances() {
        let want = [1.0f32, -2.0, 0.5];
        assert_eq!(error_units(&want, &want, FloatType::Float32), 0.0);
        let off = [1.0f32, -2.0 + 2e-4, 0.5];
        assert!((error_units(&off, &want, FloatType::Float32) - 1.0).abs() < 0.01);
        let nan = [1.0f32, f32::NAN, 0.5];
        assert!(error_units(&nan, &want, FloatType::Float16).is_infinite());
        assert!(error_units(&want[..2], &want, FloatType::Float32).is_infinite());
    }
}
