//! Running a plan on the GPU: one prologue (the GL lock, liveness), then per chunk the input
//! uploaded (host calls) or bound (resident tensors), the plan's passes recorded (channel padding,
//! the convolution, the last-axis activation), submitted, and the output read back or kept.

use std::sync::Arc;

use crate::conv::{Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::{Fault, GpuContext};
use crate::gpu::kernels;
use crate::gpu::memory::binds::{BindCache, Bound};
use crate::gpu::memory::buffers;
use crate::gpu::memory::pool::PooledBuffer;
use crate::gpu::memory::weights::GpuWeights;
use crate::gpu::plan::{ChunkPlan, Plan, Step};
use crate::gpu::program::cache::CompileInput;

pub(crate) fn pooled(b: &PooledBuffer) -> Bound<'_> {
    Bound::buffer(b.id(), b.buffer())
}

/// The axis along which chunks cut rows: 1 for `(N, H, W, C)`, 2 for `(N, C, H, W)`.
fn row_axis(format: DataFormat) -> usize {
    match format {
        DataFormat::ChannelsLast => 1,
        DataFormat::ChannelsFirst => 2,
    }
}

/// Copies the `[b0, b0+nb) × [r0, r0+nr)` block (batch × rows) of a row-major 4-D tensor of `shape`.
fn slice_block(
    data: &[f32],
    shape: [usize; 4],
    axis: usize,
    (b0, nb): (usize, usize),
    (r0, nr): (usize, usize),
) -> Vec<f32> {
    let mut out = Vec::with_capacity(nb * nr * shape[1] * shape[2] * shape[3] / shape[axis].max(1));
    for_each_run(shape, axis, (b0, nb), (r0, nr), |src, len| {
        out.extend_from_slice(&data[src..src + len])
    });
    out
}

/// Writes a block produced by [`slice_block`]'s layout back into the full tensor.
fn scatter_block(
    block: &[f32],
    full: &mut [f32],
    shape: [usize; 4],
    axis: usize,
    b: (usize, usize),
    r: (usize, usize),
) {
    let mut at = 0;
    for_each_run(shape, axis, b, r, |dst, len| {
        full[dst..dst + len].copy_from_slice(&block[at..at + len]);
        at += len;
    });
}

/// Calls `f(offset, len)` for each contiguous run of the block, in block order.
fn for_each_run(
    shape: [usize; 4],
    axis: usize,
    (b0, nb): (usize, usize),
    (r0, nr): (usize, usize),
    mut f: impl FnMut(usize, usize),
) {
    let [_, d1, d2, d3] = shape;
    if axis == 1 {
        let run = nr * d2 * d3;
        for n in b0..b0 + nb {
            f((n * d1 + r0) * d2 * d3, run);
        }
    } else {
        let run = nr * d3;
        for n in b0..b0 + nb {
            for c in 0..d1 {
                f(((n * d1 + c) * d2 + r0) * d3, run);
            }
        }
    }
}

/// Runs `plan` for `geom` on `input` (host data, `geom`'s layout) with resident `weights`;
/// returns the activated output in `plan.output_shape`.
pub(crate) fn run(
    ctx: &Arc<GpuContext>,
    geom: &Conv2dGeometry,
    plan: &Plan,
    input: &[f32],
    weights: &GpuWeights,
) -> Result<Vec<f32>> {
    let _exclusive = ctx.exclusive();
    ctx.check_alive()?; // the caller polled for a pending device loss (Conv2d::gpu_weights)
    let mut output = vec![0.0f32; plan.output_shape.iter().product()];
    let in_shape = match geom.data_format {
        DataFormat::ChannelsLast => [geom.batch, geom.in_h, geom.in_w, geom.in_c],
        DataFormat::ChannelsFirst => [geom.batch, geom.in_c, geom.in_h, geom.in_w],
    };
    let axis = row_axis(geom.data_format);
    for cp in &plan.chunks {
        let chunk = cp.chunk;
        let block = slice_block(
            input,
            in_shape,
            axis,
            (chunk.batch_start, chunk.batch_len),
            (chunk.in_row_start, chunk.in_rows),
        );
        let input_buf = buffers::upload_pooled(ctx, "wgpu-conv2d input", plan.element, &block)?;
        let encoded = encode_chunk(ctx, plan, cp, pooled(&input_buf), weights)?;
        let values =
            buffers::submit_and_read(ctx, encoded.encoder, encoded.output.buffer(), plan.element, encoded.len)?;
        drop(encoded.scratch); // back to the pool only once the work that uses it is queued
        scatter_block(
            &values,
            &mut output,
            plan.output_shape,
            axis,
            (chunk.batch_start, chunk.batch_len),
            (chunk.out_row_start, chunk.out_rows),
        );
    }
    Ok(output)
}

/// Runs `plan` for `geom` on a resident input, leaving the output resident. A plan of several
/// chunks (a tensor over the binding limit) runs them one by one as host calls do, with each
/// chunk's input band copied out of the input and its output copied into place on the GPU.
///
/// # Errors
/// [`Error::Unsupported`] when the output exceeds the device's largest buffer; the GPU's errors.
pub(crate) fn run_resident(
    ctx: &Arc<GpuContext>,
    geom: &Conv2dGeometry,
    plan: &Plan,
    input: Bound<'_>,
    weights: &GpuWeights,
) -> Result<PooledBuffer> {
    let _exclusive = ctx.exclusive();
    ctx.check_alive()?; // the caller polled for a pending device loss (Conv2d::gpu_weights)
    let chunks = match plan.chunks.as_slice() {
        [] => return buffers::output(ctx, "wgpu-conv2d empty", plan.element, 1),
        [chunk] => {
            let encoded = encode_chunk(ctx, plan, chunk, input, weights)?;
            buffers::submit(ctx, encoded.encoder)?;
            drop(encoded.scratch); // back to the pool only once the work that uses it is queued
            return Ok(encoded.output);
        }
        chunks => chunks,
    };
    let element = plan.element;
    let bytes = element.bytes();
    let total: usize = plan.output_shape.iter().product();
    let total_bytes = element.bytes_of(total).ok_or(Error::SizeOverflow("output"))?;
    if total_bytes > ctx.caps.max_buffer {
        return Err(Error::Unsupported(format!(
            "the output ({total_bytes} bytes) exceeds the device's largest buffer ({} bytes)",
            ctx.caps.max_buffer
        )));
    }
    let in_shape = match geom.data_format {
        DataFormat::ChannelsLast => [geom.batch, geom.in_h, geom.in_w, geom.in_c],
        DataFormat::ChannelsFirst => [geom.batch, geom.in_c, geom.in_h, geom.in_w],
    };
    let axis = row_axis(geom.data_format);
    check_band_alignment(plan, in_shape, axis)?;
    let source = input
        .as_buffer()
        .ok_or_else(|| Error::Unsupported("internal: a layer's input bound as a texture".into()))?;
    let output = buffers::output(ctx, "wgpu-conv2d output", element, total)?;
    for cp in chunks {
        let c = cp.chunk;
        let images = (c.batch_start, c.batch_len);
        let band_len = c.batch_len * c.in_rows * in_shape[1..].iter().product::<usize>() / in_shape[axis].max(1);
        let band = buffers::output(ctx, "wgpu-conv2d input band", element, band_len)?;
        let mut gather = buffers::encoder(ctx, "wgpu-conv2d input band")?;
        let mut at = 0;
        ctx.scoped("copying an input band", || {
            for_each_run(in_shape, axis, images, (c.in_row_start, c.in_rows), |src, len| {
                let (src, dst, len) = (src as u64 * bytes, at as u64 * bytes, len as u64 * bytes);
                gather.copy_buffer_to_buffer(source, src, band.buffer(), dst, len);
                at += len as usize / bytes as usize;
            })
        })?;
        buffers::submit(ctx, gather)?;
        let mut encoded = encode_chunk(ctx, plan, cp, pooled(&band), weights)?;
        let mut at = 0;
        ctx.scoped("copying an output band into place", || {
            for_each_run(
                plan.output_shape,
                axis,
                images,
                (c.out_row_start, c.out_rows),
                |dst, len| {
                    let (src, dst, len) = (at as u64 * bytes, dst as u64 * bytes, len as u64 * bytes);
                    encoded
                        .encoder
                        .copy_buffer_to_buffer(encoded.output.buffer(), src, output.buffer(), dst, len);
                    at += len as usize / bytes as usize;
                },
            )
        })?;
        buffers::submit(ctx, encoded.encoder)?;
        // Back to the pool only once the work that uses them is queued.
        drop((encoded.scratch, encoded.output, band));
    }
    Ok(output)
}

/// Buffer copies move whole 4-byte words: with 2-byte elements every band's runs must start and
/// end on an even element, or the copies would be invalid.
fn check_band_alignment(plan: &Plan, in_shape: [usize; 4], axis: usize) -> Result<()> {
    let per_word = (4 / plan.element.bytes().max(1)) as usize;
    if per_word <= 1 {
        return Ok(());
    }
    let mut aligned = true;
    let mut check =
        |offset: usize, len: usize| aligned &= offset.is_multiple_of(per_word) && len.is_multiple_of(per_word);
    for cp in &plan.chunks {
        let c = cp.chunk;
        let images = (c.batch_start, c.batch_len);
        for_each_run(in_shape, axis, images, (c.in_row_start, c.in_rows), &mut check);
        for_each_run(
            plan.output_shape,
            axis,
            images,
            (c.out_row_start, c.out_rows),
            &mut check,
        );
    }
    if aligned {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "a resident {} tensor over the binding limit splits into bands of an odd number of values, \
             which buffer copies cannot move; use forward_on with host data for this layer",
            plan.element
        )))
    }
}

/// One chunk's recorded passes.
struct Encoded {
    encoder: wgpu::CommandEncoder,
    /// The buffer that will hold the activated output.
    output: PooledBuffer,
    /// Its length in elements.
    len: usize,
    /// Intermediate buffers, held until the encoder is submitted, then back to the pool.
    scratch: Vec<PooledBuffer>,
}

/// Records one chunk's passes reading `input`: pack, conv, unpack, last axis (those the plan has).
fn encode_chunk(
    ctx: &GpuContext,
    plan: &Plan,
    cp: &ChunkPlan,
    input: Bound<'_>,
    weights: &GpuWeights,
) -> Result<Encoded> {
    let element = plan.element;
    let prepared = weights.prepared(plan.weight_prep)?;
    let mut encoder = buffers::encoder(ctx, "wgpu-conv2d")?;
    // Intermediate buffers live until the encoder is submitted; `current` is the last one written.
    let mut scratch: Vec<PooledBuffer> = Vec::new();
    let mut current: Option<PooledBuffer> = None;
    let mut len = 0;
    let steps = [
        (&cp.pack, "wgpu-conv2d packed input"),
        (&Some(cp.conv.clone()), "wgpu-conv2d output"),
        (&cp.unpack, "wgpu-conv2d unpacked output"),
        (&cp.last_axis, "wgpu-conv2d activated"),
    ];
    for (i, (step, label)) in steps.into_iter().enumerate() {
        let Some(step) = step else { continue };
        let out = buffers::output(ctx, label, element, step.output_len)?;
        let from = current.as_ref().map_or(input, pooled);
        if i == 1 {
            let bindings = [from, prepared.kernel(), prepared.bias(ctx), pooled(&out)];
            record(ctx, &mut encoder, &weights.binds, step, &bindings)?;
        } else {
            record(ctx, &mut encoder, &weights.binds, step, &[from, pooled(&out)])?;
        }
        len = step.output_len;
        scratch.extend(current.replace(out));
    }
    let output = current.expect("the conv wrote an output");
    Ok(Encoded {
        encoder,
        output,
        len,
        scratch,
    })
}

/// Records one pass: its pipeline, a bind group from the layer's cache (the uniform at binding 0,
/// then `bindings` at 1, 2, ...) and the plan's folded dispatch.
pub(crate) fn record(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    binds: &BindCache,
    step: &Step,
    bindings: &[Bound<'_>],
) -> Result<()> {
    let key = step.program;
    let program = kernels::program(key.program)
        .ok_or_else(|| Error::Unsupported(format!("internal: no program named {}", key.program)))?;
    let shape = program.binding_shape();
    let layout = ctx.layouts.get(&ctx.device, &ctx.liveness, shape)?;
    let pipeline = ctx.pipelines.get(
        (&ctx.device, ctx.pipeline_store.as_ref()),
        &ctx.liveness,
        &layout,
        key,
        || CompileInput {
            source: program.source_of(&key),
            constants: program.constants(&key.variant),
        },
    )?;
    let bind = binds.get(ctx, shape, &step.uniform, bindings)?;
    ctx.scoped("recording a compute pass", || {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        // The test hook for a crate bug: a dispatch over the per-dimension limit.
        let x = if ctx.faults.take(Fault::InvalidDispatch) {
            ctx.caps.max_workgroups_per_dim.saturating_add(1)
        } else {
            step.dispatch.x
        };
        pass.dispatch_workgroups(x, step.dispatch.y, 1);
    })
}
