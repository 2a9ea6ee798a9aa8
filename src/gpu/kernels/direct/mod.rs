//! The direct convolution (`direct.wgsl`): every Conv2D configuration (groups, depthwise, dilation,
//! strides, asymmetric padding, both data formats) on any adapter. It is the reference the other
//! algorithms are checked against on the GPU and the last resort of the registry. Each invocation
//! computes `tile_f` filters of one group × `tile_x` output columns of one row.

use bytemuck::bytes_of;

use crate::conv::{Chunk, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::params::{conv_uniform, ConvUniform};
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Program, Sample, UniformLayout, WORKGROUP};
use crate::gpu::program::{BindingShape, ElementType, Variant};

/// The registry id.
pub const ID: AlgorithmId = AlgorithmId("direct");

/// Accumulators per invocation (`MAX_TILE` in `direct.wgsl`): `tile_f · tile_x` stays within it.
pub const MAX_TILE: u32 = 16;

/// The direct kernel.
pub struct Direct;

/// The registry's instance.
pub static DIRECT: Direct = Direct;

/// The tile for a geometry: wide in filters when groups have many, wide in columns otherwise
/// (depthwise has one filter per group).
fn tile(g: &Conv2dGeometry) -> [u32; 2] {
    let fg = g.filters_per_group() as u32;
    let filters = if fg >= 4 { 4 } else { fg.max(1) };
    [filters, (MAX_TILE / filters).min(4)]
}

/// Filter tiles per group and column tiles per row under `variant`.
fn tiles(g: &Conv2dGeometry, variant: &Variant) -> [u64; 2] {
    [
        (g.filters_per_group() as u64).div_ceil(variant.get(0).max(1) as u64),
        (g.out_w as u64).div_ceil(variant.get(1).max(1) as u64),
    ]
}

fn invocations(g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
    let [f_tiles, x_tiles] = tiles(g, variant);
    (chunk.batch_len as u64)
        .checked_mul(chunk.out_rows as u64)?
        .checked_mul(x_tiles)?
        .checked_mul(f_tiles)?
        .checked_mul(g.groups as u64)
}

impl Program for Direct {
    fn name(&self) -> &'static str {
        ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["tile_f", "tile_x"]
    }

    fn variants(&self) -> Vec<Variant> {
        (1..=4).map(|f| Variant::of(&[f, (MAX_TILE / f).min(4)])).collect()
    }

    fn body(&self, _variant: &Variant) -> String {
        include_str!("direct.wgsl").to_string()
    }

    fn constants(&self, variant: &Variant) -> Vec<(&'static str, f64)> {
        vec![("TILE_F", variant.get(0) as f64), ("TILE_X", variant.get(1) as f64)]
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        ConvUniform::layout()
    }
}

impl Algorithm for Direct {
    fn reads_any_layout(&self) -> bool {
        true
    }

    fn supports(&self, _g: &Conv2dGeometry, _caps: &DeviceCaps, _element: ElementType) -> bool {
        true
    }

    fn variant_for(&self, g: &Conv2dGeometry, _epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        Variant::of(&tile(g))
    }

    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
        Some(invocations(g, variant, chunk)?.div_ceil(WORKGROUP as u64))
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        let total = invocations(g, variant, chunk).ok_or(Error::SizeOverflow("invocation count"))?;
        let u = conv_uniform(g, chunk, epilogue, tiles(g, variant), total)?;
        Ok(bytes_of(&u).to_vec())
    }

    fn describe(&self, variant: &Variant) -> String {
        format!("direct conv, tile {}f x {}x", variant.get(0), variant.get(1))
    }

    fn samples(&self) -> Vec<Sample> {
        vec![
            // One filter per group (tile 1f x 4x), channels_first, dilation.
            Sample::new([2, 3, 9, 8], 3, 3)
                .groups(3)
                .channels_first()
                .dilation(2)
                .same(),
            // Two and three filters per group, strides, odd widths.
            Sample::new([1, 11, 13, 4], 4, 3).groups(2).strides(2, 3).same(),
            Sample::new([2, 7, 6, 6], 9, 2).groups(3),
            // Many filters, channels_first, a kernel wider than tall.
            Sample::new([1, 5, 9, 10], 12, 1).kernel(3, 5).channels_first().same(),
        ]
    }
}
