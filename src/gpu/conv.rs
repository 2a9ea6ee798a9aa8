//! Running a planned convolution on the GPU: weights resident per device, chunks uploaded,
//! dispatched (direct kernel, then the last-axis pass when the activation needs one) and read back.

use std::sync::Arc;

use crate::activation::Activation;
use crate::config::DataFormat;
use crate::error::{Error, Result};
use crate::geometry::Conv2dGeometry;
use crate::gpu::binds::{BindCache, Bound};
use crate::gpu::buffers::{self, scoped};
use crate::gpu::context::GpuContext;
use crate::gpu::params::{LastAxisUniform, PadUniform};
use crate::gpu::pipelines::Kernel;
use crate::gpu::planner::{self, fold_dispatch, Chunk, KernelChoice, Plan};
use crate::gpu::pool::{self, PooledBuffer};
use crate::gpu::uniforms::{self, to_u32};
use bytemuck::bytes_of;

/// A layer's kernel and bias on one device, tagged with the weights' version.
pub(crate) struct GpuWeights {
    pub context_id: u64,
    pub version: u64,
    /// Every kernel and bias value is finite (the GPU path assumes finite math).
    pub finite: bool,
    kernel: (u64, wgpu::Buffer),
    /// For `groups = 1` layers whose channels are not a multiple of 4: the kernel with zero rows
    /// added up to a multiple of 4 channels, for the channel-padded implicit GEMMs.
    kernel_padded: Option<(u64, wgpu::Buffer)>,
    bias: Option<(u64, wgpu::Buffer)>,
    /// This layer's bind groups on this device, reused across calls.
    binds: BindCache,
}

/// A weight buffer with its bind-group cache id.
fn with_id(buffer: wgpu::Buffer) -> (u64, wgpu::Buffer) {
    (pool::next_id(), buffer)
}

fn bound((id, buffer): &(u64, wgpu::Buffer)) -> Bound<'_> {
    Bound { id: *id, buffer }
}

fn pooled(b: &PooledBuffer) -> Bound<'_> {
    Bound {
        id: b.id(),
        buffer: b.buffer(),
    }
}

impl GpuWeights {
    /// Uploads the (LoRA-merged) HWIO kernel of `shape` and the bias.
    pub(crate) fn upload(
        ctx: &GpuContext,
        version: u64,
        kernel: &[f32],
        shape: [usize; 4],
        groups: usize,
        bias: Option<&[f32]>,
    ) -> Result<Self> {
        let kernel_bytes = kernel.len() as u64 * 4;
        if kernel_bytes > ctx.limits.max_tensor_bytes() {
            return Err(Error::Unsupported(format!(
                "the kernel ({kernel_bytes} bytes) exceeds the device limit of {} bytes per binding",
                ctx.limits.max_tensor_bytes()
            )));
        }
        let _exclusive = ctx.exclusive();
        let finite = kernel.iter().chain(bias.unwrap_or(&[])).all(|v| v.is_finite());
        Ok(Self {
            context_id: ctx.id,
            version,
            finite,
            kernel: with_id(buffers::upload(
                ctx,
                "wgpu-conv2d kernel",
                kernel,
                wgpu::BufferUsages::empty(),
            )?),
            kernel_padded: if groups == 1 && !shape[2].is_multiple_of(4) {
                let padded = pad_kernel_channels(kernel, shape);
                Some(with_id(buffers::upload(
                    ctx,
                    "wgpu-conv2d kernel (padded)",
                    &padded,
                    wgpu::BufferUsages::empty(),
                )?))
            } else {
                None
            },
            bias: bias
                .map(|b| buffers::upload(ctx, "wgpu-conv2d bias", b, wgpu::BufferUsages::empty()).map(with_id))
                .transpose()?,
            binds: BindCache::default(),
        })
    }
}

/// An HWIO kernel with its input-channel axis padded with zeros to a multiple of 4.
fn pad_kernel_channels(kernel: &[f32], [kh, kw, cin, f]: [usize; 4]) -> Vec<f32> {
    let c4 = cin.div_ceil(4) * 4;
    let mut out = vec![0.0; kh * kw * c4 * f];
    for tap in 0..kh * kw {
        for c in 0..cin {
            let (src, dst) = ((tap * cin + c) * f, (tap * c4 + c) * f);
            out[dst..dst + f].copy_from_slice(&kernel[src..src + f]);
        }
    }
    out
}

/// The id the shaders use for an activation (`activate()` in activation.wgsl, `last_axis.wgsl`).
pub(crate) fn activation_id(a: Activation) -> u32 {
    use Activation::*;
    match a {
        Linear => 0,
        Relu => 1,
        LeakyRelu => 2,
        Relu6 => 3,
        Elu => 4,
        Selu => 5,
        Celu => 6,
        Softplus => 7,
        Softsign => 8,
        Squareplus => 9,
        SoftShrink => 10,
        HardShrink => 11,
        TanhShrink => 12,
        SparsePlus => 13,
        Silu => 14,
        Gelu => 15,
        Tanh => 16,
        Sigmoid => 17,
        SparseSigmoid => 18,
        Exponential => 19,
        HardSigmoid => 20,
        HardSilu => 21,
        HardTanh => 22,
        Mish => 23,
        LogSigmoid => 24,
        Softmax => 100,
        LogSoftmax => 101,
        Sparsemax => 102,
        Glu => 103,
    }
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

/// The output shape after the activation: glu halves the last axis.
fn activated_shape(geom: &Conv2dGeometry, activation: Activation) -> [usize; 4] {
    let [a, b, c, d] = geom.output_shape();
    if activation == Activation::Glu {
        [a, b, c, d / 2]
    } else {
        [a, b, c, d]
    }
}

/// Runs the convolution of `input` (host data, `geom`'s layout) with resident weights.
/// Returns the activated output and its shape (glu halves the last axis).
pub(crate) fn run(
    ctx: &Arc<GpuContext>,
    geom: &Conv2dGeometry,
    activation: Activation,
    input: &[f32],
    weights: &GpuWeights,
) -> Result<(Vec<f32>, [usize; 4])> {
    let _exclusive = ctx.exclusive();
    ctx.check_alive()?; // the caller polled for a pending device loss (Conv2d::gpu_weights)
    let plan = planner::plan(geom, &ctx.limits)?;
    let final_shape = activated_shape(geom, activation);
    let mut output = vec![0.0f32; final_shape.iter().product()];
    let in_shape = match geom.data_format {
        DataFormat::ChannelsLast => [geom.batch, geom.in_h, geom.in_w, geom.in_c],
        DataFormat::ChannelsFirst => [geom.batch, geom.in_c, geom.in_h, geom.in_w],
    };
    let axis = row_axis(geom.data_format);
    for chunk in &plan.chunks {
        let block = slice_block(
            input,
            in_shape,
            axis,
            (chunk.batch_start, chunk.batch_len),
            (chunk.in_row_start, chunk.in_rows),
        );
        let values = run_chunk(ctx, geom, &plan, chunk, activation, &block, weights)?;
        scatter_block(
            &values,
            &mut output,
            final_shape,
            axis,
            (chunk.batch_start, chunk.batch_len),
            (chunk.out_row_start, chunk.out_rows),
        );
    }
    Ok((output, final_shape))
}

fn run_chunk(
    ctx: &Arc<GpuContext>,
    geom: &Conv2dGeometry,
    plan: &Plan,
    chunk: &Chunk,
    activation: Activation,
    input: &[f32],
    weights: &GpuWeights,
) -> Result<Vec<f32>> {
    let input_buf = buffers::upload_pooled(ctx, "wgpu-conv2d input", input)?;
    let encoded = encode_chunk(ctx, geom, plan, chunk, activation, pooled(&input_buf), weights)?;
    let values = buffers::submit_and_read(ctx, encoded.encoder, encoded.output.buffer(), encoded.len);
    drop(encoded.scratch); // back to the pool only once the work that uses it is queued
    values
}

/// One chunk's recorded passes.
pub(crate) struct Encoded {
    pub encoder: wgpu::CommandEncoder,
    /// The buffer that will hold the activated output.
    pub output: PooledBuffer,
    /// Its length in floats.
    pub len: usize,
    /// Intermediate buffers, held until the encoder is submitted, then back to the pool.
    pub scratch: Vec<PooledBuffer>,
}

/// Records one chunk's passes reading `input`.
pub(crate) fn encode_chunk(
    ctx: &Arc<GpuContext>,
    geom: &Conv2dGeometry,
    plan: &Plan,
    chunk: &Chunk,
    activation: Activation,
    input: Bound<'_>,
    weights: &GpuWeights,
) -> Result<Encoded> {
    let fused = if activation.is_axis_reduction() {
        0
    } else {
        activation_id(activation)
    };
    let has_bias = weights.bias.is_some();
    let out_len = chunk.batch_len * chunk.out_rows * geom.out_w * geom.filters;
    let out_buf = buffers::output(ctx, "wgpu-conv2d output", out_len)?;
    let bias = bound(weights.bias.as_ref().unwrap_or(&ctx.dummy));
    let kernel_buf = bound(&weights.kernel);
    let mut scratch = Vec::new();
    let mut encoder = scoped(ctx, || {
        ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wgpu-conv2d"),
        })
    })?;
    let out = pooled(&out_buf);
    let pass = |kernel: Kernel, uniform: &[u8], bindings: &[Bound<'_>], groups: u64, encoder: &mut _| {
        record(ctx, encoder, &weights.binds, kernel, uniform, bindings, groups)
    };
    // RGB stems: a pass pads the channels to a multiple of 4 and the kernel runs on that copy,
    // with the kernel uploaded with matching zero rows.
    let padded = if plan.kernel.pads_channels() {
        Some(pad_channels(ctx, &mut encoder, geom, chunk, input, weights)?)
    } else {
        None
    };
    let (conv_input, conv_kernel, channels) = match &padded {
        Some((buf, kernel_padded, c4)) => (pooled(buf), bound(kernel_padded), Some(c4 * 4)),
        None => (input, kernel_buf, None),
    };
    let (uniform, groups) = match plan.kernel {
        KernelChoice::Direct(tile) => {
            let (params, groups) = uniforms::direct(geom, chunk, tile, fused, has_bias)?;
            (bytes_of(&params).to_vec(), groups)
        }
        KernelChoice::Depthwise | KernelChoice::DepthwiseTiled(_) | KernelChoice::GroupedTiled(_) => {
            let (params, groups) = uniforms::depthwise(geom, chunk, plan.kernel, fused, has_bias)?;
            (bytes_of(&params).to_vec(), groups)
        }
        KernelChoice::Igemm { .. }
        | KernelChoice::IgemmPadded { .. }
        | KernelChoice::Narrow { .. }
        | KernelChoice::Tiled { .. } => {
            let (params, groups) = uniforms::igemm(geom, chunk, plan.kernel, fused, has_bias, channels)?;
            (bytes_of(&params).to_vec(), groups)
        }
    };
    pass(
        plan.kernel.pipeline(),
        &uniform,
        &[conv_input, conv_kernel, bias, out],
        groups,
        &mut encoder,
    )?;
    scratch.extend(padded.map(|(buf, _, _)| buf));
    if !activation.is_axis_reduction() {
        return Ok(Encoded {
            encoder,
            output: out_buf,
            len: out_len,
            scratch,
        });
    }
    // The last axis is contiguous in both layouts: channels (channels_last) or width (channels_first).
    let len = match geom.data_format {
        DataFormat::ChannelsLast => geom.filters,
        DataFormat::ChannelsFirst => geom.out_w,
    };
    let lanes = out_len / len;
    let final_len = if activation == Activation::Glu {
        lanes * (len / 2)
    } else {
        out_len
    };
    let q = LastAxisUniform {
        lanes: to_u32(lanes, "lanes")?,
        len: to_u32(len, "last axis")?,
        activation: activation_id(activation),
        _pad: 0,
    };
    let final_buf = buffers::output(ctx, "wgpu-conv2d activated", final_len)?;
    let lane_groups = (lanes as u64).div_ceil(planner::WORKGROUP as u64);
    pass(
        Kernel::LastAxis,
        bytes_of(&q),
        &[out, pooled(&final_buf)],
        lane_groups,
        &mut encoder,
    )?;
    scratch.push(out_buf);
    Ok(Encoded {
        encoder,
        output: final_buf,
        len: final_len,
        scratch,
    })
}

/// Records the pass that pads few input channels (RGB stems) to a multiple of 4, for the vec4
/// GEMMs; returns the padded input, the kernel uploaded with matching zero rows, and the vec4
/// channel count.
fn pad_channels<'w>(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    geom: &Conv2dGeometry,
    chunk: &Chunk,
    input: Bound<'_>,
    weights: &'w GpuWeights,
) -> Result<(PooledBuffer, &'w (u64, wgpu::Buffer), usize)> {
    let kernel_padded = weights
        .kernel_padded
        .as_ref()
        .ok_or_else(|| Error::Gpu("the channel-padded kernel was not uploaded".into()))?;
    let c4 = geom.in_c.div_ceil(4);
    let pixels = chunk.batch_len * chunk.in_rows * geom.in_w;
    let padded = buffers::output(ctx, "wgpu-conv2d padded input", pixels * c4 * 4)?;
    let pad = PadUniform {
        pixels: to_u32(pixels, "pixels")?,
        in_c: to_u32(geom.in_c, "channels")?,
        c4: to_u32(c4, "channels")?,
        _pad: 0,
    };
    let pad_groups = ((pixels * c4) as u64).div_ceil(planner::WORKGROUP as u64);
    record(
        ctx,
        encoder,
        &weights.binds,
        Kernel::PadChannels,
        bytes_of(&pad),
        &[input, pooled(&padded)],
        pad_groups,
    )?;
    Ok((padded, kernel_padded, c4))
}

/// Records one pass of `kernel`: a uniform holding `uniform` at binding 0, then `bindings` at 1,
/// 2, ..., through the layer's bind-group cache; the dispatch folded within the limits.
fn record(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    binds: &BindCache,
    kernel: Kernel,
    uniform: &[u8],
    bindings: &[Bound<'_>],
    groups: u64,
) -> Result<()> {
    let pipeline = ctx.pipeline(kernel)?;
    let dispatch = fold_dispatch(groups, ctx.limits.max_workgroups_per_dim)
        .ok_or_else(|| Error::Unsupported(format!("{groups} workgroups cannot be folded into the dispatch limit")))?;
    let bind = binds.get(ctx, kernel, &pipeline, uniform, bindings)?;
    scoped(ctx, || {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        // The test hook for a crate bug: a dispatch over the per-dimension limit.
        let x = if ctx.take_fault(crate::gpu::context::Fault::InvalidDispatch) {
            ctx.limits.max_workgroups_per_dim.saturating_add(1)
        } else {
            dispatch.x
        };
        pass.dispatch_workgroups(x, dispatch.y, 1);
    })
}

/// Runs the convolution on a resident input, leaving the output resident.
pub(crate) fn run_resident(
    ctx: &Arc<GpuContext>,
    geom: &Conv2dGeometry,
    activation: Activation,
    input: &PooledBuffer,
    weights: &GpuWeights,
) -> Result<(PooledBuffer, [usize; 4])> {
    let _exclusive = ctx.exclusive();
    ctx.check_alive()?; // the caller polled for a pending device loss (Conv2d::gpu_weights)
    let plan = planner::plan(geom, &ctx.limits)?;
    let shape = activated_shape(geom, activation);
    match plan.chunks.as_slice() {
        [] => Ok((buffers::output(ctx, "wgpu-conv2d empty", 1)?, shape)),
        [chunk] => {
            let encoded = encode_chunk(ctx, geom, &plan, chunk, activation, pooled(input), weights)?;
            buffers::submit(ctx, encoded.encoder)?;
            drop(encoded.scratch); // back to the pool only once the work that uses it is queued
            Ok((encoded.output, shape))
        }
        chunks => Err(Error::Unsupported(format!(
            "this call needs {} pieces to fit the device limits; a resident GpuTensor must fit in one \
             (run forward_on with host data, which splits it)",
            chunks.len()
        ))),
    }
}
