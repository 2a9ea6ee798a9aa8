//! The planner: which algorithm runs, with which variant, and how the work is cut so that every
//! binding, buffer and dispatch stays within the device's limits. Pure: geometry + capabilities +
//! element type in, plan out. A plan carries each chunk's programs, uniform bytes and dispatch,
//! so the executor records passes without calling back here.

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::{AlgorithmFilter, DeviceCaps, GpuContext};
use crate::gpu::kernels::{self, activation_id, Algorithm, AlgorithmId, Epilogue, Program, WeightPrep};
use crate::gpu::program::{ElementType, ProgramKey, Variant};

pub mod chunks;
pub mod select;

pub use chunks::{fold_dispatch, Dispatch};

/// One pass of a chunk: the program, its uniform and its dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The pipeline.
    pub program: ProgramKey,
    /// The uniform's bytes (binding 0).
    pub uniform: Vec<u8>,
    /// Workgroups, folded within the per-dimension limit.
    pub dispatch: Dispatch,
    /// Elements of the buffer the pass writes.
    pub output_len: usize,
}

/// A chunk and the passes that compute it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    /// The piece of the work.
    pub chunk: Chunk,
    /// The channel-padding pass over the chunk's input, when the algorithm reads padded channels.
    pub pad: Option<Step>,
    /// The convolution (bias and element-wise activation fused).
    pub conv: Step,
    /// The last-axis activation pass, for softmax, log_softmax, sparsemax and glu.
    pub last_axis: Option<Step>,
}

/// What runs and how it is cut up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The algorithm chosen.
    pub algorithm: AlgorithmId,
    /// Its variant for this geometry.
    pub variant: Variant,
    /// The storage element type.
    pub element: ElementType,
    /// The layout the kernel must be resident in.
    pub weight_prep: WeightPrep,
    /// The output shape after the activation (glu halves the last axis).
    pub output_shape: [usize; 4],
    /// The pieces, in order; together they cover every output element exactly once.
    pub chunks: Vec<ChunkPlan>,
}

impl Plan {
    /// One line for logs and tools: the algorithm, its tile and the split.
    pub fn describe(&self) -> String {
        let algorithm = kernels::algorithm(self.algorithm)
            .map_or_else(|| self.algorithm.to_string(), |a| a.describe(&self.variant));
        format!(
            "{}{algorithm}, {} chunk(s)",
            if self.weight_prep.pads_input() {
                "channels padded to 4 + "
            } else {
                ""
            },
            self.chunks.len()
        )
    }
}

/// The plan for `g` on a device with `caps`, under `filter`, in `element`, with `epilogue`.
///
/// # Errors
/// [`Error::Unsupported`] naming the limit when even one output row of one image (or the kernel)
/// cannot fit, or a dispatch cannot be folded; [`Error::SizeOverflow`].
pub fn plan(
    g: &Conv2dGeometry,
    caps: &DeviceCaps,
    filter: &AlgorithmFilter,
    element: ElementType,
    epilogue: Epilogue,
) -> Result<Plan> {
    plan_with(select::choose(g, caps, filter, element), g, caps, element, epilogue)
}

/// The plan of a call on `g` on `ctx`, in f32.
///
/// # Errors
/// As [`plan`].
pub fn for_context(ctx: &GpuContext, g: &Conv2dGeometry, epilogue: Epilogue) -> Result<Plan> {
    plan(g, ctx.caps(), ctx.filter(), ElementType::F32, epilogue)
}

/// The plan for `g` with `algorithm`, which must support it.
///
/// # Errors
/// As [`plan`].
pub fn plan_with(
    algorithm: &'static dyn Algorithm,
    g: &Conv2dGeometry,
    caps: &DeviceCaps,
    element: ElementType,
    epilogue: Epilogue,
) -> Result<Plan> {
    let max_bytes = caps.max_tensor_bytes();
    let kernel_bytes = element
        .bytes_of(g.kernel_len()?)
        .ok_or(Error::SizeOverflow("kernel bytes"))?;
    if kernel_bytes > max_bytes {
        return Err(Error::Unsupported(format!(
            "the kernel ({kernel_bytes} bytes) exceeds the device limit of {max_bytes} bytes per binding"
        )));
    }
    let variant = algorithm.variant_for(g);
    let weight_prep = algorithm.weight_prep(g);
    let pieces = chunks::split(g, caps, element, weight_prep.input_channels(g), |c| {
        algorithm.workgroups(g, &variant, c)
    })?;
    let chunks = pieces
        .iter()
        .map(|chunk| chunk_plan(algorithm, &variant, g, caps, element, &epilogue, weight_prep, chunk))
        .collect::<Result<_>>()?;
    Ok(Plan {
        algorithm: algorithm.id(),
        variant,
        element,
        weight_prep,
        output_shape: epilogue.activation.output_shape(g.output_shape()),
        chunks,
    })
}

fn step(caps: &DeviceCaps, program: ProgramKey, uniform: Vec<u8>, workgroups: u64, output_len: usize) -> Result<Step> {
    let dispatch = fold_dispatch(workgroups, caps.max_workgroups_per_dim).ok_or_else(|| {
        Error::Unsupported(format!(
            "{workgroups} workgroups cannot be folded into the dispatch limit"
        ))
    })?;
    Ok(Step {
        program,
        uniform,
        dispatch,
        output_len,
    })
}

#[allow(clippy::too_many_arguments)] // the planner's whole context for one chunk
fn chunk_plan(
    algorithm: &'static dyn Algorithm,
    variant: &Variant,
    g: &Conv2dGeometry,
    caps: &DeviceCaps,
    element: ElementType,
    epilogue: &Epilogue,
    weight_prep: WeightPrep,
    chunk: &Chunk,
) -> Result<ChunkPlan> {
    let pad = if weight_prep.pads_input() {
        let pass: &dyn Program = &kernels::pad_channels::PAD_CHANNELS;
        let pixels = chunk.batch_len * chunk.in_rows * g.in_w;
        let (uniform, groups, len) = kernels::pad_channels::step(pixels, g.in_c)?;
        Some(step(caps, pass.key(Variant::NONE, element), uniform, groups, len)?)
    } else {
        None
    };
    let out_len = chunk.batch_len * chunk.out_rows * g.out_w * g.filters;
    let conv = step(
        caps,
        (algorithm as &dyn Program).key(*variant, element),
        algorithm.uniform(g, variant, chunk, epilogue)?,
        algorithm
            .workgroups(g, variant, chunk)
            .ok_or(Error::SizeOverflow("workgroups"))?,
        out_len,
    )?;
    let last_axis = if epilogue.needs_last_axis_pass() {
        // The last axis is contiguous in both layouts: channels (channels_last) or width (channels_first).
        let len = match g.data_format {
            DataFormat::ChannelsLast => g.filters,
            DataFormat::ChannelsFirst => g.out_w,
        };
        let lanes = out_len / len;
        let final_len = lanes * epilogue.activation.output_shape([1, 1, 1, len])[3];
        let pass: &dyn Program = &kernels::last_axis::LAST_AXIS;
        let (uniform, groups) = kernels::last_axis::step(lanes, len, activation_id(epilogue.activation))?;
        Some(step(
            caps,
            pass.key(Variant::NONE, element),
            uniform,
            groups,
            final_len,
        )?)
    } else {
        None
    };
    Ok(ChunkPlan {
        chunk: *chunk,
        pad,
        conv,
        last_axis,
    })
}

#[cfg(test)]
mod tests;
