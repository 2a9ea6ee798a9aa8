//! Depthwise convolution (one filter per channel, channels_last, channels a multiple of 4): the
//! blocked kernel generated per kernel size, stride and dilation (`blocked.rs`), and the loop
//! kernel (`depthwise_loop.wgsl`) for windows too large to unroll. The grouped algorithm reuses
//! the blocked generator and [`block_grid`].

use bytemuck::bytes_of;

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::params::{conv_uniform, ConvUniform};
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Program, Sample, UniformLayout, WORKGROUP};
use crate::gpu::program::{BindingShape, ElementType, Variant};

pub mod blocked;

pub use blocked::Taps;

/// The blocked depthwise kernel's registry id.
pub const TILED_ID: AlgorithmId = AlgorithmId("depthwise_tiled");
/// The loop kernel's registry id.
pub const LOOP_ID: AlgorithmId = AlgorithmId("depthwise_loop");

/// The blocked depthwise kernel.
pub struct DepthwiseTiled;
/// The loop depthwise kernel: 4 channels × 4 output columns per invocation, any window.
pub struct DepthwiseLoop;

/// The registry's instances.
pub static TILED: DepthwiseTiled = DepthwiseTiled;
/// See [`TILED`].
pub static LOOP: DepthwiseLoop = DepthwiseLoop;

/// The taps of `g`.
pub fn taps(g: &Conv2dGeometry) -> Taps {
    Taps {
        kernel: g.kernel.map(|v| v as u32),
        strides: g.strides.map(|v| v as u32),
        dilation: g.dilation.map(|v| v as u32),
    }
}

/// True for a channels_last depthwise geometry whose channels fill vec4s.
fn depthwise_vec4(g: &Conv2dGeometry) -> bool {
    g.data_format == DataFormat::ChannelsLast
        && g.cin_per_group() == 1
        && g.filters_per_group() == 1
        && g.in_c.is_multiple_of(4)
}

/// How the blocked kernels lay invocations out: one per lane × output block of `block` (rows,
/// columns). Returns the column blocks per row block (`x_tiles`) and the invocations.
pub fn block_grid(g: &Conv2dGeometry, chunk: &Chunk, [rows, cols]: [u32; 2], lanes: usize) -> Option<(u64, u64)> {
    let row_blocks = (chunk.batch_len as u64).checked_mul((chunk.out_rows as u64).div_ceil(rows as u64))?;
    let col_blocks = (g.out_w as u64).div_ceil(cols as u64);
    Some((
        col_blocks,
        row_blocks.checked_mul(col_blocks)?.checked_mul(lanes as u64)?,
    ))
}

/// The `ConvUniform` of a blocked kernel: `x_tiles` and `total` counted in its output blocks.
pub fn block_uniform(
    g: &Conv2dGeometry,
    chunk: &Chunk,
    epilogue: &Epilogue,
    block: [u32; 2],
    lanes: usize,
) -> Result<Vec<u8>> {
    let (col_blocks, total) = block_grid(g, chunk, block, lanes).ok_or(Error::SizeOverflow("block grid"))?;
    let f_tiles = (g.filters_per_group() as u64).div_ceil(4);
    Ok(bytes_of(&conv_uniform(g, chunk, epilogue, [f_tiles, col_blocks], total)?).to_vec())
}

fn block_workgroups(g: &Conv2dGeometry, chunk: &Chunk, block: [u32; 2], lanes: usize) -> Option<u64> {
    Some(block_grid(g, chunk, block, lanes)?.1.div_ceil(WORKGROUP as u64))
}

const BLOCK: [u32; 2] = [blocked::TILE_Y, blocked::TILE_X];

impl Program for DepthwiseTiled {
    fn name(&self) -> &'static str {
        TILED_ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        Taps::PARAMS
    }

    /// One variant per kernel size, stride, dilation that fits and output layout; these are
    /// representative.
    fn variants(&self) -> Vec<Variant> {
        Taps::variants()
    }

    fn body(&self, variant: &Variant) -> String {
        blocked::generate(
            Taps::from_variant(variant),
            false,
            blocked::OutputLayout::from_code(variant.get(6)),
        )
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        ConvUniform::layout()
    }
}

impl Algorithm for DepthwiseTiled {
    fn writes_channels_first(&self) -> bool {
        true
    }

    fn supports(&self, g: &Conv2dGeometry, _caps: &DeviceCaps, _element: ElementType) -> bool {
        depthwise_vec4(g) && taps(g).fits()
    }

    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        taps(g).variant(blocked::OutputLayout::new(epilogue.channels_first_output, g.out_w))
    }

    fn workgroups(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk) -> Option<u64> {
        block_workgroups(g, chunk, BLOCK, g.in_c / 4)
    }

    fn uniform(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        block_uniform(g, chunk, epilogue, BLOCK, g.in_c / 4)
    }

    fn describe(&self, _variant: &Variant) -> String {
        format!(
            "depthwise tiled, 4 ch x {}x{} px per invocation",
            blocked::TILE_Y,
            blocked::TILE_X
        )
    }

    fn samples(&self) -> Vec<Sample> {
        Taps::representative()
            .into_iter()
            .enumerate()
            .flat_map(|(i, t)| {
                let c = 4 * (1 + i % 3);
                let s = Sample::new([1 + i % 2, 13, 17, c], c as u32, 1)
                    .kernel(t.kernel[0], t.kernel[1])
                    .strides(t.strides[0], t.strides[1])
                    .dilation(t.dilation[0])
                    .groups(c as u32);
                let s = if i % 2 == 0 { s.same() } else { s };
                // The same layer channels_first: packed, written channels_first by the kernel.
                let mut first = s.channels_first();
                first.input_shape = [1 + i % 2, c, 13, 17];
                // Rows of whole vec4s (16 wide, `same`): each block row written as vec4s.
                let mut rows = s.same().channels_first();
                rows.input_shape = [1 + i % 2, c, 13, 16];
                [s, first, rows]
            })
            .collect()
    }
}

impl Program for DepthwiseLoop {
    fn name(&self) -> &'static str {
        LOOP_ID.0
    }

    fn body(&self, _variant: &Variant) -> String {
        include_str!("depthwise_loop.wgsl").to_string()
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        ConvUniform::layout()
    }
}

impl Algorithm for DepthwiseLoop {
    fn supports(&self, g: &Conv2dGeometry, _caps: &DeviceCaps, _element: ElementType) -> bool {
        depthwise_vec4(g)
    }

    fn variant_for(&self, _g: &Conv2dGeometry, _epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        Variant::NONE
    }

    fn workgroups(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk) -> Option<u64> {
        block_workgroups(g, chunk, [1, 4], g.in_c / 4)
    }

    fn uniform(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        block_uniform(g, chunk, epilogue, [1, 4], g.in_c / 4)
    }

    fn describe(&self, _variant: &Variant) -> String {
        "depthwise, 4 ch x 4 px per invocation".to_string()
    }

    fn samples(&self) -> Vec<Sample> {
        vec![
            // A window too large for the blocked kernel, dilated.
            Sample::new([1, 30, 29, 8], 8, 9).groups(8).dilation(2).same(),
            Sample::new([2, 9, 10, 4], 4, 3).groups(4).strides(2, 1),
        ]
    }
}
