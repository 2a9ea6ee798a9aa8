//! Passes that run outside a plan's chunks: a resident input cast to a layer's storage type and
//! compute dtype, and the merge of a split kernel's filter slices.

use std::sync::Arc;

use crate::error::Result;
use crate::gpu::device::GpuContext;
use crate::gpu::execute::{pooled, record};
use crate::gpu::kernels;
use crate::gpu::memory::binds::{BindCache, Bound};
use crate::gpu::memory::buffers;
use crate::gpu::memory::pool::PooledBuffer;
use crate::gpu::plan::{self, filter_split::MergePlan};
use crate::gpu::program::ElementType;
use crate::keras::dtype::FloatType;

/// Merges the outputs of a layer's filter slices (`parts`, in the order of `plan.merges`) into
/// one output, then runs the last-axis activation on it when the plan has one.
///
/// # Errors
/// The GPU's errors.
pub(crate) fn merge_slices(
    ctx: &Arc<GpuContext>,
    binds: &BindCache,
    parts: &[Bound<'_>],
    plan: &MergePlan,
    element: ElementType,
) -> Result<PooledBuffer> {
    let _exclusive = ctx.exclusive();
    ctx.check_alive()?;
    let merged = buffers::output(ctx, "wgpu-conv2d output", element, plan.merged_len)?;
    let mut encoder = buffers::encoder(ctx, "wgpu-conv2d filter slices")?;
    for (part, step) in parts.iter().zip(&plan.merges) {
        record(ctx, &mut encoder, binds, step, &[*part, pooled(&merged)])?;
    }
    let Some(step) = &plan.last_axis else {
        buffers::submit(ctx, encoder)?;
        return Ok(merged);
    };
    let activated = buffers::output(ctx, "wgpu-conv2d activated", element, step.output_len)?;
    record(ctx, &mut encoder, binds, step, &[pooled(&merged), pooled(&activated)])?;
    buffers::submit(ctx, encoder)?;
    drop(merged); // back to the pool only once the work that uses it is queued
    Ok(activated)
}

/// A copy of the `len` values of `input` (stored as `from`) stored as `to` and rounded to `dtype`:
/// a layer's input cast to its storage type and compute dtype. Between the two half types (one
/// program holds one of them) it goes through f32, which holds both exactly.
///
/// # Errors
/// The GPU's errors.
pub(crate) fn convert_values(
    ctx: &Arc<GpuContext>,
    binds: &BindCache,
    (input, len): (Bound<'_>, usize),
    (from, to): (ElementType, ElementType),
    dtype: FloatType,
) -> Result<PooledBuffer> {
    if from != to && from != ElementType::F32 && to != ElementType::F32 {
        let wide = convert_values(ctx, binds, (input, len), (from, ElementType::F32), FloatType::Float32)?;
        return convert_values(ctx, binds, (pooled(&wide), len), (ElementType::F32, to), dtype);
    }
    let _exclusive = ctx.exclusive();
    ctx.check_alive()?;
    let (uniform, groups) = kernels::round_values::step(len)?;
    let step = plan::step(
        &ctx.caps,
        kernels::round_values::key(from, to, dtype),
        uniform,
        groups,
        len,
    )?;
    let out = buffers::output(ctx, "wgpu-conv2d converted input", to, len)?;
    let mut encoder = buffers::encoder(ctx, "wgpu-conv2d input conversion")?;
    record(ctx, &mut encoder, binds, &step, &[input, pooled(&out)])?;
    buffers::submit(ctx, encoder)?;
    Ok(out)
}
