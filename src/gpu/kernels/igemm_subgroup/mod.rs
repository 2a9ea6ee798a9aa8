//! The implicit GEMMs for 8-lane subgroups, shaped for software adapters (lavapipe): M = output
//! pixels, N = filters of one group, K = taps × channels of the group, gathered in place. The wide
//! kernel broadcasts inputs across lanes that own filter columns; the narrow one broadcasts
//! weights across lanes that own pixels, for groups of at most 16 filters. Channels_last, filters
//! per group a multiple of 4, channels per group a multiple of 4 (other layers are packed to that
//! by the planner, see `kernels::layout`). Bias and activation are fused in the write.

use bytemuck::bytes_of;

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::columns;
use crate::gpu::kernels::params::{igemm_uniform, IgemmUniform};
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Family, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

mod gather;
pub mod narrow;
pub mod wide;

/// The wide GEMM's registry id.
pub const WIDE_ID: AlgorithmId = AlgorithmId("igemm_subgroup");
/// The narrow GEMM's registry id.
pub const NARROW_ID: AlgorithmId = AlgorithmId("igemm_narrow");

/// Output pixels per workgroup of the wide GEMM: 8 per lane. Its widest variant (128 filters)
/// takes about 5.5 s to compile on llvmpipe with a cold shader cache.
pub const WIDE_ROWS: u32 = 64;

/// Output pixels per workgroup of the wide GEMM where a call has at most this many (one per
/// lane): squeeze-excite 1x1 convolutions on one pixel, where a 64-pixel tile computed 63
/// clamped copies of it (EfficientNetB0's 1x1-map expands took 6-9x the per-call floor).
pub const WIDE_ROWS_TINY: u32 = 8;

/// Output pixels per workgroup of the wide GEMM (7 per lane) where that computes at least 10%
/// fewer pixels than `WIDE_ROWS`: 14x14 maps (196 pixels in 224, not 256) and 7x7 (49 in 56,
/// not 64). On ResNet50's 14x14 and 7x7 layers 1.04-1.20x (3 alternating rounds, best median);
/// where it saves less (28x28: 784 in 784 against 832) it measured no faster.
pub const WIDE_ROWS_SMALL_MAPS: u32 = 56;

/// The wide GEMM's pixels per workgroup for `g`.
fn wide_rows(g: &Conv2dGeometry) -> u32 {
    let pixels = g.batch * g.out_h * g.out_w;
    let computed = |rows: u32| pixels.div_ceil(rows as usize) * rows as usize;
    if pixels <= WIDE_ROWS_TINY as usize {
        WIDE_ROWS_TINY
    } else if computed(WIDE_ROWS_SMALL_MAPS) * 10 <= computed(WIDE_ROWS) * 9 {
        WIDE_ROWS_SMALL_MAPS
    } else {
        WIDE_ROWS
    }
}

/// Output pixels per lane of the narrow GEMM: measured against 4 and 8 (resnext_g32 22.7 / 16.0 /
/// 15.4 ms, image_big 315 / 241 / 227 ms); fewer, larger workgroups cost less on llvmpipe.
pub const NARROW_LANE_ROWS: u32 = 16;

/// The wide subgroup GEMM (`wide.rs`).
pub struct Wide;
/// The narrow subgroup GEMM (`narrow.rs`).
pub struct Narrow;

/// The registry's instances.
pub static WIDE: Wide = Wide;
/// See [`WIDE`].
pub static NARROW: Narrow = Narrow;

/// The layout of the vec4 GEMMs: channels_last, channels and filters per group in vec4s.
pub(crate) fn vec4_layout(g: &Conv2dGeometry) -> bool {
    g.data_format == DataFormat::ChannelsLast
        && g.filters_per_group().is_multiple_of(4)
        && g.cin_per_group().is_multiple_of(4)
}

fn fits_vec4_layout(g: &Conv2dGeometry, caps: &DeviceCaps) -> bool {
    caps.subgroup8 && vec4_layout(g)
}

/// Workgroups of `pixels_per_tile` output pixels × `col_tiles` column tiles per group.
pub(crate) fn gemm_tiles(g: &Conv2dGeometry, chunk: &Chunk, pixels_per_tile: u64, col_tiles: u64) -> Option<u64> {
    chunk
        .pixels(g)?
        .div_ceil(pixels_per_tile)
        .checked_mul(g.groups as u64)?
        .checked_mul(col_tiles)
}

/// The `IgemmUniform` bytes of a GEMM whose workgroups are `tiles` over `col_tiles` per group.
pub(crate) fn gemm_uniform(
    g: &Conv2dGeometry,
    chunk: &Chunk,
    epilogue: &Epilogue,
    col_tiles: u64,
    tiles: Option<u64>,
) -> Result<Vec<u8>> {
    let tiles = tiles.ok_or(Error::SizeOverflow("workgroups"))?;
    Ok(bytes_of(&igemm_uniform(g, chunk, epilogue, g.in_c, col_tiles, tiles)?).to_vec())
}

fn wide_col_tiles(g: &Conv2dGeometry, cols: u32) -> u64 {
    columns::column_tiles(g.filters_per_group() / 4, cols)
}

/// Samples shared by both GEMMs, with `f_g` filters per group.
fn samples(f_g: &[u32]) -> Vec<Sample> {
    let mut out = Vec::new();
    for (i, &f) in f_g.iter().enumerate() {
        // Dense, strided, dilated, grouped; RGB (padded channels) with one group.
        out.push(Sample::new([1, 9 + i, 11, 8], f, 3).same());
        out.push(Sample::new([2, 10, 7, 3], f, 3).strides(2, 2).same());
        out.push(Sample::new([1, 12, 12, 8], 2 * f, 3).groups(2).dilation(2));
        // channels_first: packed, the output written channels_first by the kernel.
        let mut first = Sample::new([1, 8, 9 + i, 11], f, 3).same().channels_first();
        first.input_shape = [1, 8, 9 + i, 11];
        out.push(first);
    }
    out.push(Sample::new([1, 6, 5, 5], f_g[0], 1));
    out
}

impl Program for Wide {
    fn name(&self) -> &'static str {
        WIDE_ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["rows", "cols", "nchw"]
    }

    fn variants(&self) -> Vec<Variant> {
        let mut out = Vec::new();
        for rows in [WIDE_ROWS, WIDE_ROWS_SMALL_MAPS, WIDE_ROWS_TINY] {
            for nchw in 0..2 {
                out.extend((1..=4).map(|cols| Variant::of(&[rows, cols, nchw])));
            }
        }
        out
    }

    fn body(&self, variant: &Variant) -> String {
        wide::body(variant.get(0), variant.get(1), variant.get(2) != 0, false)
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        IgemmUniform::layout()
    }
}

impl Algorithm for Wide {
    fn writes_channels_first(&self) -> bool {
        true
    }

    fn family(&self) -> Family {
        Family::SubgroupBroadcast
    }

    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, _element: ElementType) -> bool {
        fits_vec4_layout(g, caps)
    }

    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, caps: &DeviceCaps) -> Variant {
        let rows = wide_rows(g);
        let row_tiles = ((g.batch * g.out_h * g.out_w).div_ceil(rows as usize) * g.groups) as u64;
        let cols = columns::balanced_lane_columns(g.filters_per_group() / 4, 4, row_tiles, caps.threads);
        Variant::of(&[rows, cols, u32::from(epilogue.channels_first_output)])
    }

    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
        gemm_tiles(g, chunk, variant.get(0) as u64, wide_col_tiles(g, variant.get(1)))
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        let col_tiles = wide_col_tiles(g, variant.get(1));
        gemm_uniform(g, chunk, epilogue, col_tiles, self.workgroups(g, variant, chunk))
    }

    fn describe(&self, variant: &Variant) -> String {
        format!(
            "implicit GEMM (subgroup broadcast), tile {} px x {} f",
            variant.get(0),
            32 * variant.get(1)
        )
    }

    fn samples(&self) -> Vec<Sample> {
        // 1, 2, 3 and 4 vec4 columns per lane, partial column tiles; then each on a call of at
        // most 8 pixels (the tiny tile): one pixel, and 2x2 channels_first (4 pixels).
        let mut out = samples(&[8, 36, 88, 128]);
        // 3 columns over two column tiles, the second partial (144 filters: 36 vec4s in 48).
        out.push(Sample::new([1, 5, 6, 8], 144, 3).same());
        // channels_first on both pixel tiles: 8x8 (64 rows), 7x7 (56 rows).
        for (side, f) in [(8, 8), (8, 36), (8, 128), (7, 88)] {
            let mut first = Sample::new([1, side, side, 8], f, 3).same().channels_first();
            first.input_shape = [1, 8, side, side];
            out.push(first);
        }
        for f in [8, 36, 88, 128] {
            out.push(Sample::new([1, 1, 1, 12], f, 1));
            let mut first = Sample::new([1, 2, 2, 8], f, 1).channels_first();
            first.input_shape = [1, 8, 2, 2];
            out.push(first);
        }
        out
    }
}

impl crate::gpu::kernels::texture_weights::TextureBody for Wide {
    fn texture_body(&self, variant: &Variant) -> String {
        wide::body(variant.get(0), variant.get(1), variant.get(2) != 0, true)
    }
}

impl Program for Narrow {
    fn name(&self) -> &'static str {
        NARROW_ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["lane_rows", "cols", "nchw"]
    }

    fn variants(&self) -> Vec<Variant> {
        (0..2)
            .flat_map(|nchw| (1..=4).map(move |cols| Variant::of(&[NARROW_LANE_ROWS, cols, nchw])))
            .collect()
    }

    fn body(&self, variant: &Variant) -> String {
        narrow::body(variant.get(0), variant.get(1), variant.get(2) != 0)
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        IgemmUniform::layout()
    }
}

impl Algorithm for Narrow {
    fn writes_channels_first(&self) -> bool {
        true
    }

    fn family(&self) -> Family {
        Family::SubgroupBroadcast
    }

    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, _element: ElementType) -> bool {
        fits_vec4_layout(g, caps) && g.filters_per_group() <= 16
    }

    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        let cols = (g.filters_per_group() / 4) as u32;
        Variant::of(&[NARROW_LANE_ROWS, cols, u32::from(epilogue.channels_first_output)])
    }

    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
        gemm_tiles(g, chunk, 8 * variant.get(0) as u64, 1)
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        // One tile holds all of a group's columns.
        gemm_uniform(g, chunk, epilogue, 1, self.workgroups(g, variant, chunk))
    }

    fn describe(&self, variant: &Variant) -> String {
        format!(
            "narrow implicit GEMM (weights broadcast), tile {} px x {} f",
            8 * variant.get(0),
            4 * variant.get(1)
        )
    }

    fn samples(&self) -> Vec<Sample> {
        samples(&[4, 8, 12, 16])
    }
}
