//! The planner: which algorithm runs, with which variant, and how the work is cut so that every
//! binding, buffer and dispatch stays within the device's limits. Pure: geometry + capabilities +
//! element type in, plan out. A plan carries each chunk's programs, uniform bytes and dispatch,
//! so the executor records passes without calling back here.

use std::sync::Arc;

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::{AlgorithmFilter, DeviceCaps, GpuContext};
use crate::gpu::kernels::layout::{self, Packing};
use crate::gpu::kernels::{self, Algorithm, AlgorithmId, Epilogue, Program, WeightPrep};
use crate::gpu::program::{ElementType, ProgramKey, Variant};
use crate::keras::dtype::FloatType;

pub mod chunks;
pub mod filter_split;
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
    /// The pass that packs the chunk's input for the vec4 kernels, when the layer is packed.
    pub pack: Option<Step>,
    /// The convolution (bias and element-wise activation fused).
    pub conv: Step,
    /// The pass that writes the packed output in the layer's layout, when the layer is packed.
    pub unpack: Option<Step>,
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
    /// The layout the kernel must be resident in (packed when the layer is).
    pub weight_prep: WeightPrep,
    /// The geometry the conv kernel runs (the layer's, or its packed form).
    pub conv_geometry: Conv2dGeometry,
    /// The output shape after the activation (glu halves the last axis).
    pub output_shape: [usize; 4],
    /// The pieces, in order; together they cover every output element exactly once.
    pub chunks: Vec<ChunkPlan>,
    packing_note: String,
}

impl Plan {
    /// The plan of a [`single_pixel_twin`] as the plan of the layer `g` itself: the same steps,
    /// the output in the layer's shape (the same values in the same order).
    fn for_layer(mut self, g: &Conv2dGeometry, epilogue: &Epilogue) -> Self {
        self.output_shape = epilogue.activation.output_shape(g.output_shape());
        self.packing_note = format!("one pixel per image, read as channels_last + {}", self.packing_note);
        self
    }

    /// One line for logs and tools: the algorithm, its tile and the split.
    pub fn describe(&self) -> String {
        let algorithm = kernels::algorithm(self.algorithm)
            .map_or_else(|| self.algorithm.to_string(), |a| a.describe(&self.variant));
        format!("{}{algorithm}, {} chunk(s)", self.packing_note, self.chunks.len())
    }
}

/// The plan for `g` on a device with `caps`, under `filter`, in `element`, with `epilogue`. A
/// layer the vec4 kernels cannot read as it is gets packed (see [`Packing`]) and the registry is
/// asked about the packed geometry; an algorithm that reads any layout (the direct kernel, the
/// channels_first planes GEMM) is asked about the layer's own and runs it unpacked.
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
    if let Some(twin) = single_pixel_twin(g, &epilogue) {
        return Ok(plan(&twin, caps, filter, element, epilogue)?.for_layer(g, &epilogue));
    }
    let algorithm = select::choose(g, caps, filter, element);
    let (packing, _) = kernels::run_geometry(algorithm, g);
    plan_with(algorithm, g, packing, caps, element, epilogue)
}

/// The channels_last twin of a channels_first layer whose input and output hold one pixel per
/// image (EfficientNet's squeeze-excite 1x1 convolutions): `(N, C, 1, 1)` lies in memory as
/// `(N, 1, 1, C)` does, so the twin's plan runs the layer with no layout pass. Not for an
/// activation over the last axis, which is the width (of 1) in the layer and the channels in the twin.
fn single_pixel_twin(g: &Conv2dGeometry, epilogue: &Epilogue) -> Option<Conv2dGeometry> {
    let one_pixel = [g.in_h, g.in_w, g.out_h, g.out_w] == [1; 4];
    (g.data_format == DataFormat::ChannelsFirst && one_pixel && !epilogue.needs_last_axis_pass()).then_some(
        Conv2dGeometry {
            data_format: DataFormat::ChannelsLast,
            ..*g
        },
    )
}

/// Says once per process that float16 layers run f32 kernels on rounded values.
static NO_F16_NOTICE: std::sync::Once = std::sync::Once::new();

/// The storage type of a call whose write step rounds to `round` on a device with `caps`: f16
/// for float16 compute where the device has `SHADER_F16` (else f32 holding rounded values), bf16
/// (packed in `u32`s) for bfloat16, f32 for float32.
pub fn element_for(caps: &DeviceCaps, round: FloatType) -> ElementType {
    match round {
        FloatType::Float16 if caps.shader_f16 => ElementType::F16,
        FloatType::Float16 => {
            NO_F16_NOTICE.call_once(|| {
                log::info!("the device lacks SHADER_F16: float16 layers run f32 kernels on float16-rounded values")
            });
            ElementType::F32
        }
        FloatType::BFloat16 => ElementType::BF16,
        FloatType::Float32 => ElementType::F32,
    }
}

/// The plan of a call on `g` on `ctx`, stored in [`element_for`] the epilogue's rounding: the
/// algorithm tuning chose for the geometry's class where it has (see [`crate::gpu::tuning`]),
/// else the registry's rules.
///
/// # Errors
/// As [`plan`].
pub fn for_context(ctx: &Arc<GpuContext>, g: &Conv2dGeometry, epilogue: Epilogue) -> Result<Plan> {
    if let Some(twin) = single_pixel_twin(g, &epilogue) {
        return Ok(for_context(ctx, &twin, epilogue)?.for_layer(g, &epilogue));
    }
    let element = element_for(ctx.caps(), epilogue.round);
    if let Some(tuned) = crate::gpu::tuning::tuned_plan(ctx, g, element, &epilogue)? {
        return Ok(tuned);
    }
    plan(g, ctx.caps(), ctx.filter(), element, epilogue)
}

/// The plan for `g` with `algorithm`, which must support `g` packed with `packing` (or `g` itself).
///
/// # Errors
/// As [`plan`].
pub fn plan_with(
    algorithm: &'static dyn Algorithm,
    g: &Conv2dGeometry,
    packing: Option<Packing>,
    caps: &DeviceCaps,
    element: ElementType,
    epilogue: Epilogue,
) -> Result<Plan> {
    let max_bytes = caps.max_tensor_bytes();
    let cg = packing.map_or(*g, |p| p.geometry(g));
    let kernel_bytes = element
        .bytes_of(g.kernel_len()?.max(cg.kernel_len()?))
        .ok_or(Error::SizeOverflow("kernel bytes"))?;
    if kernel_bytes > max_bytes {
        return Err(Error::Unsupported(format!(
            "the kernel ({kernel_bytes} bytes) exceeds the device limit of {max_bytes} bytes per binding"
        )));
    }
    // A channels_first layer whose filters need no padding: the conv writes the layer's layout.
    let mut epilogue = epilogue;
    // bf16 has no word-owning scattered store (program/access.rs): its unpack pass transposes.
    epilogue.channels_first_output = packing.is_some()
        && element != ElementType::BF16
        && g.data_format == DataFormat::ChannelsFirst
        && cg.filters == g.filters
        && algorithm.writes_channels_first();
    let variant = algorithm.variant_for(&cg, &epilogue, caps);
    if !kernels::has_variant(algorithm, &variant, element) {
        return Err(Error::Unsupported(format!(
            "{} has no {element} program for {}",
            algorithm.name(),
            variant.describe(algorithm.variant_params())
        )));
    }
    // The packed geometry holds at least as many channels and filters: its limits hold for both.
    let pieces = chunks::split(&cg, caps, element, cg.in_c, |c| {
        let conv = algorithm.workgroups(&cg, &variant, c)?;
        Some(conv.max(pass_workgroups(g, &cg, packing, &epilogue, c)?))
    })?;
    let context = ChunkContext {
        algorithm,
        variant,
        g,
        cg: &cg,
        packing,
        caps,
        element,
        epilogue: &epilogue,
    };
    let chunks = pieces
        .iter()
        .map(|chunk| context.chunk_plan(chunk))
        .collect::<Result<_>>()?;
    Ok(Plan {
        algorithm: algorithm.id(),
        variant,
        element,
        weight_prep: WeightPrep {
            packing,
            winograd: algorithm.winograd_weights(),
            texture: algorithm.texture_weights(),
        },
        conv_geometry: cg,
        output_shape: epilogue.activation.output_shape(g.output_shape()),
        chunks,
        packing_note: packing.map_or_else(String::new, |p| p.describe(g)),
    })
}

/// The most workgroups one of the chunk's passes (pack, unpack, last axis) dispatches.
fn pass_workgroups(
    g: &Conv2dGeometry,
    cg: &Conv2dGeometry,
    packing: Option<Packing>,
    epilogue: &Epilogue,
    c: &Chunk,
) -> Option<u64> {
    let per = |n: u64| n.div_ceil(kernels::WORKGROUP as u64);
    let pixels_in = (c.batch_len as u64)
        .checked_mul(c.in_rows as u64)?
        .checked_mul(g.in_w as u64)?;
    let out = c.pixels(g)?.checked_mul(g.filters as u64)?;
    let mut most = 0;
    if packing.is_some() {
        most = per(pixels_in.checked_mul(cg.in_c as u64 / 4)?).max(per(out));
    }
    if epilogue.needs_last_axis_pass() {
        most = most.max(per(out));
    }
    Some(most)
}

pub(crate) fn step(
    caps: &DeviceCaps,
    program: ProgramKey,
    uniform: Vec<u8>,
    workgroups: u64,
    output_len: usize,
) -> Result<Step> {
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

/// The last-axis activation pass over `out_len` elements of `g`'s output, when the activation has one.
fn last_axis_step(
    g: &Conv2dGeometry,
    caps: &DeviceCaps,
    element: ElementType,
    epilogue: &Epilogue,
    out_len: usize,
) -> Result<Option<Step>> {
    if !epilogue.needs_last_axis_pass() {
        return Ok(None);
    }
    // The last axis is contiguous in both layouts: channels (channels_last) or width (channels_first).
    let len = match g.data_format {
        DataFormat::ChannelsLast => g.filters,
        DataFormat::ChannelsFirst => g.out_w,
    };
    let lanes = out_len / len;
    let final_len = lanes * epilogue.activation.output_shape([1, 1, 1, len])[3];
    let (uniform, groups) = kernels::last_axis::step(lanes, len, epilogue.last_axis_activation())?;
    let key = (&kernels::last_axis::LAST_AXIS as &dyn Program)
        .key(Variant::NONE, element)
        .rounded(epilogue.round);
    Ok(Some(step(caps, key, uniform, groups, final_len)?))
}

/// Everything one chunk's steps are planned from.
struct ChunkContext<'a> {
    algorithm: &'static dyn Algorithm,
    variant: Variant,
    /// The layer's geometry, and the one the conv runs (packed, or the same).
    g: &'a Conv2dGeometry,
    cg: &'a Conv2dGeometry,
    packing: Option<Packing>,
    caps: &'a DeviceCaps,
    element: ElementType,
    epilogue: &'a Epilogue,
}

impl ChunkContext<'_> {
    fn pass(&self, (program, variant, uniform, groups, len): layout::PassStep) -> Result<Step> {
        step(self.caps, program.key(variant, self.element), uniform, groups, len)
    }

    fn chunk_plan(&self, chunk: &Chunk) -> Result<ChunkPlan> {
        let (g, cg, algorithm, variant) = (self.g, self.cg, self.algorithm, &self.variant);
        let pack = match self.packing.filter(|p| !p.input_is_layer_input(g)) {
            Some(p) => Some(self.pass(p.pack_step(g, chunk)?)?),
            None => None,
        };
        let conv = step(
            self.caps,
            (algorithm as &dyn Program)
                .key(*variant, self.element)
                .rounded(self.epilogue.round),
            algorithm.uniform(cg, variant, chunk, self.epilogue)?,
            algorithm
                .workgroups(cg, variant, chunk)
                .ok_or(Error::SizeOverflow("workgroups"))?,
            chunk.batch_len * chunk.out_rows * cg.out_w * cg.filters,
        )?;
        let written = self.epilogue.channels_first_output;
        let unpack = match self.packing.filter(|p| !p.output_is_layer_output(g) && !written) {
            Some(p) => Some(self.pass(p.unpack_step(g, chunk)?)?),
            None => None,
        };
        let out_len = chunk.batch_len * chunk.out_rows * g.out_w * g.filters;
        let last_axis = last_axis_step(g, self.caps, self.element, self.epilogue, out_len)?;
        Ok(ChunkPlan {
            chunk: *chunk,
            pack,
            conv,
            unpack,
            last_axis,
        })
    }
}

#[cfg(test)]
mod tests;
