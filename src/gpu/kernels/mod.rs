//! The convolution algorithms and the passes around them, one folder each, behind two traits, and
//! the registry the planner walks in priority order.
//!
//! A new algorithm is a folder with a type implementing [`Program`] and [`Algorithm`] and one line
//! in [`registry`]: the planner, the naga test and the GPU-vs-oracle sweep find it there.
//! [`texture_weights`] gives three of them registry twins that read their weights from a texture.

use crate::conv::{Chunk, Conv2dGeometry, ConvParams};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
pub use crate::gpu::program::AlgorithmId;
use crate::gpu::program::{wgsl, BindingShape, ElementType, ProgramKey, Variant};
use crate::keras::dtype::FloatType;

pub(crate) mod columns;
pub mod depthwise;
pub mod depthwise_planes;
pub mod direct;
pub(crate) mod epilogue;
pub mod grouped;
pub mod igemm_subgroup;
pub mod igemm_tiled;
pub mod last_axis;
pub mod layout;
pub mod merge_filters;
pub mod params;
pub(crate) mod parts;
pub mod pointwise_planes;
pub mod round_values;
pub(crate) mod store;
pub mod texture_weights;
mod weight_prep;
pub mod winograd;

pub use epilogue::{activation_id, Epilogue};
pub use weight_prep::WeightPrep;

/// Invocations per workgroup of the one-dimensional kernels (`WORKGROUP` in their WGSL).
pub const WORKGROUP: u32 = 64;

/// Which [`crate::KernelFamily`] admits an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Every family (the depthwise and grouped kernels, and the direct kernel).
    Any,
    /// The subgroup-broadcast GEMMs shaped for software adapters.
    SubgroupBroadcast,
    /// The workgroup-memory tiled GEMM for hardware GPUs.
    WorkgroupTiles,
}

/// A uniform struct's size and field offsets, as the host lays it out, for the naga test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniformLayout {
    /// The WGSL struct's name.
    pub wgsl_struct: &'static str,
    /// `size_of` the `#[repr(C)]` host struct.
    pub size: usize,
    /// Each field's name and byte offset, in order.
    pub fields: Vec<(&'static str, usize)>,
}

/// The [`UniformLayout`] of a `#[repr(C)]` struct and its WGSL twin's name.
#[macro_export]
#[doc(hidden)]
macro_rules! uniform_layout {
    ($ty:ty, $wgsl:literal, [$($field:ident),* $(,)?]) => {
        $crate::gpu::kernels::UniformLayout {
            wgsl_struct: $wgsl,
            size: ::std::mem::size_of::<$ty>(),
            fields: vec![$((stringify!($field), ::std::mem::offset_of!($ty, $field))),*],
        }
    };
}

/// A small problem an algorithm supports, for the GPU-vs-oracle sweep: together an algorithm's
/// samples cover each of its variants and its edge cases (padding, folding, partial tiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The layer's arguments.
    pub params: ConvParams,
    /// The input shape in `params.data_format`.
    pub input_shape: [usize; 4],
}

impl Sample {
    /// A channels_last problem on `input_shape` with `filters` filters of `kernel` × `kernel`,
    /// stride 1, no dilation, `valid` padding, one group.
    pub fn new(input_shape: [usize; 4], filters: u32, kernel: u32) -> Self {
        Self {
            params: ConvParams {
                filters,
                kernel_size: [kernel, kernel],
                strides: [1, 1],
                dilation_rate: [1, 1],
                padding: crate::conv::Padding::Valid,
                groups: 1,
                data_format: crate::conv::DataFormat::ChannelsLast,
            },
            input_shape,
        }
    }

    /// With these strides.
    pub fn strides(mut self, rows: u32, cols: u32) -> Self {
        self.params.strides = [rows, cols];
        self
    }

    /// With this dilation.
    pub fn dilation(mut self, d: u32) -> Self {
        self.params.dilation_rate = [d, d];
        self
    }

    /// With this kernel size (rows, columns).
    pub fn kernel(mut self, rows: u32, cols: u32) -> Self {
        self.params.kernel_size = [rows, cols];
        self
    }

    /// With `groups` groups.
    pub fn groups(mut self, groups: u32) -> Self {
        self.params.groups = groups;
        self
    }

    /// With `same` padding.
    pub fn same(mut self) -> Self {
        self.params.padding = crate::conv::Padding::Same;
        self
    }

    /// In channels_first (the input shape is then `(N, C, H, W)`).
    pub fn channels_first(mut self) -> Self {
        self.params.data_format = crate::conv::DataFormat::ChannelsFirst;
        self
    }
}

/// What every GPU program (algorithm or pass) says about itself.
pub trait Program: Send + Sync {
    /// The program's name: its folder, or the algorithm's name within it.
    fn name(&self) -> &'static str;

    /// The names of the numbers a variant carries (empty for a program with one variant).
    fn variant_params(&self) -> &'static [&'static str] {
        &[]
    }

    /// Every variant the planner can ask for.
    fn variants(&self) -> Vec<Variant> {
        vec![Variant::NONE]
    }

    /// The program's own WGSL for `variant` (storage declared in the `Elem` aliases).
    fn body(&self, variant: &Variant) -> String;

    /// Override constants of `variant`.
    fn constants(&self, _variant: &Variant) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// The buffers it binds.
    fn binding_shape(&self) -> BindingShape;

    /// Its uniform's host layout.
    fn uniform_layout(&self) -> UniformLayout;

    /// The element types it has WGSL for.
    fn elements(&self) -> &'static [ElementType] {
        ElementType::ALL
    }

    /// True when `variant` stores single values of an `array<Elem4>` (`STL`): by default, a
    /// variant writing a channels_first output (`nchw` set), whose store scatters them.
    fn stores_single_values(&self, variant: &Variant) -> bool {
        self.variant_params()
            .iter()
            .position(|p| *p == "nchw")
            .is_some_and(|at| variant.get(at) != 0)
    }
}

/// True when `variant` of `program` has WGSL for `element`: a variant that stores single values
/// of an `array<Elem4>` ([`Program::stores_single_values`]) has none for bf16, which cannot store
/// one without owning the word (`program/access.rs`), so the planner never asks for it.
pub fn has_variant(program: &dyn Program, variant: &Variant, element: ElementType) -> bool {
    program.elements().contains(&element) && !(program.stores_single_values(variant) && element == ElementType::BF16)
}

impl dyn Program + '_ {
    /// The full WGSL module of `variant` for `element`, its write steps not rounding.
    pub fn source(&self, variant: &Variant, element: ElementType) -> String {
        wgsl::assemble(element, FloatType::Float32, &self.body(variant))
    }

    /// The full WGSL module a pipeline key names.
    pub fn source_of(&self, key: &ProgramKey) -> String {
        wgsl::assemble(key.element, key.round, &self.body(&key.variant))
    }

    /// The pipeline key of `variant` for `element` (add rounding with [`ProgramKey::rounded`]).
    pub fn key(&self, variant: Variant, element: ElementType) -> ProgramKey {
        ProgramKey {
            program: self.name(),
            variant,
            element,
            round: FloatType::Float32,
        }
    }
}

/// A convolution algorithm: what it supports, which variant it runs, and what one chunk needs.
pub trait Algorithm: Program {
    /// Its registry id.
    fn id(&self) -> AlgorithmId {
        AlgorithmId(self.name())
    }

    /// The family that admits it.
    fn family(&self) -> Family {
        Family::Any
    }

    /// True when it reads every layer as it is (any layout and channel count), so the planner
    /// never packs a layer for it.
    fn reads_any_layout(&self) -> bool {
        false
    }

    /// True when it reads its weights Winograd-transformed ([`WeightPrep::winograd`]).
    fn winograd_weights(&self) -> bool {
        false
    }

    /// True when it reads its kernel from a texture ([`WeightPrep::texture`]).
    fn texture_weights(&self) -> bool {
        false
    }

    /// True when its write step can write a channels_first output ([`Epilogue::channels_first_output`]);
    /// its variants then carry the output layout, so the write step is chosen when it compiles.
    fn writes_channels_first(&self) -> bool {
        false
    }

    /// True when it can run `g` on a device with `caps` in `element` (declining is not an error).
    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, element: ElementType) -> bool;

    /// False where the rules should pass a geometry it supports on to a later entry (it measured
    /// slower there); the tuner and an explicit algorithm list may still run it.
    fn preferred_by_rules(&self, _g: &Conv2dGeometry) -> bool {
        true
    }

    /// The variant it runs for `g` with `epilogue` on a device with `caps` (one of
    /// [`Program::variants`]).
    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, caps: &DeviceCaps) -> Variant;

    /// Workgroups one dispatch of `chunk` needs, or `None` on overflow.
    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64>;

    /// The uniform's bytes for `chunk`.
    ///
    /// # Errors
    /// [`crate::Error::SizeOverflow`] when a number does not fit the uniform.
    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>>;

    /// One line for logs and tools: the algorithm and its tile.
    fn describe(&self, variant: &Variant) -> String;

    /// Problems that exercise it, for the sweep.
    fn samples(&self) -> Vec<Sample>;
}

/// True when `algorithm` may decline its own samples on a device with `caps` for the device's
/// sake: a subgroup GEMM without 8-lane subgroups, a tile whose workgroup the limits do not hold.
pub fn declines_for_the_device(algorithm: &dyn Algorithm, caps: &DeviceCaps) -> bool {
    let tile_too_big = std::iter::once(&igemm_tiled::TILED)
        .chain(&igemm_tiled::TUNING_VARIANTS)
        .any(|t| t.id == algorithm.id() && !t.fits(caps));
    (algorithm.family() == Family::SubgroupBroadcast && !caps.subgroup8) || tile_too_big
}

/// The geometry `algorithm` runs for a layer of geometry `g`: `g` packed for the vec4 kernels when
/// it must be ([`layout::Packing`]), or `g` itself for an algorithm that reads any layout.
pub fn run_geometry(algorithm: &dyn Algorithm, g: &Conv2dGeometry) -> (Option<layout::Packing>, Conv2dGeometry) {
    match layout::Packing::for_geometry(g).filter(|_| !algorithm.reads_any_layout()) {
        Some(p) => (Some(p), p.geometry(g)),
        None => (None, *g),
    }
}

/// The algorithms in priority order: the planner runs the first that the context's filter admits
/// and that supports the geometry. The direct kernel, last, supports everything. The kernels
/// reading their weights from a texture come before their twins reading a buffer, which take
/// the layers a texture cannot hold ([`texture_weights`]). The entries after the wide GEMM are never the rules' choice for a layer the wide or the 32x32 tiled GEMM
/// takes: they are there for the tuner (and for explicit `GpuOptions::algorithms`).
pub fn registry() -> &'static [&'static dyn Algorithm] {
    static REGISTRY: &[&dyn Algorithm] = &[
        &texture_weights::PLANES,
        &pointwise_planes::PLANES,
        &depthwise_planes::PLANES,
        &depthwise::TILED,
        &depthwise::LOOP,
        &grouped::TILED,
        &igemm_subgroup::NARROW,
        &igemm_tiled::TILED,
        &texture_weights::WINOGRAD_F2,
        &winograd::WINOGRAD_F2,
        &texture_weights::WIDE,
        &igemm_subgroup::WIDE,
        &igemm_tiled::TUNING_VARIANTS[0],
        &igemm_tiled::TUNING_VARIANTS[1],
        &igemm_tiled::TUNING_VARIANTS[2],
        &igemm_tiled::TUNING_VARIANTS[3],
        &igemm_tiled::TUNING_VARIANTS[4],
        &igemm_tiled::TUNING_VARIANTS[5],
        &igemm_tiled::TUNING_VARIANTS[6],
        &igemm_tiled::TUNING_VARIANTS[7],
        &direct::DIRECT,
    ];
    REGISTRY
}

/// The passes the executor runs around an algorithm.
pub fn passes() -> &'static [&'static dyn Program] {
    static PASSES: &[&dyn Program] = &[
        &layout::PACK_INPUT,
        &layout::fold::FOLD_COLUMNS,
        &layout::PACK_PLANES,
        &layout::PACK_PLANES_ANY,
        &layout::UNPACK_OUTPUT,
        &layout::UNPACK_PLANES,
        &last_axis::LAST_AXIS,
        &merge_filters::MERGE_FILTERS,
        &round_values::ROUND_VALUES,
    ];
    PASSES
}

/// Every program: the registry's algorithms, then the passes.
pub fn programs() -> Vec<&'static dyn Program> {
    registry()
        .iter()
        .map(|a| *a as &dyn Program)
        .chain(passes().iter().copied())
        .collect()
}

/// The program called `name`.
pub fn program(name: &str) -> Option<&'static dyn Program> {
    registry()
        .iter()
        .map(|a| *a as &dyn Program)
        .chain(passes().iter().copied())
        .find(|p| p.name() == name)
}

/// The registry's algorithm with `id`.
pub fn algorithm(id: AlgorithmId) -> Option<&'static dyn Algorithm> {
    registry().iter().copied().find(|a| a.id() == id)
}
