//! Grouped convolution with 4 filters per group over at most 16 channels per group (ResNeXt's 32
//! groups of 4): the depthwise blocked kernel with one lane per group and a mat4 × vec4 per tap,
//! so each input vec4 is loaded once per output block instead of once per tap. Channels_last,
//! channels per group a multiple of 4.

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::depthwise::{self, blocked, Taps};
use crate::gpu::kernels::params::ConvUniform;
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

/// The registry id.
pub const ID: AlgorithmId = AlgorithmId("grouped_tiled");

/// The grouped blocked kernel.
pub struct GroupedTiled;

/// The registry's instance.
pub static TILED: GroupedTiled = GroupedTiled;

const BLOCK: [u32; 2] = [blocked::TILE_Y, blocked::TILE_X];

impl Program for GroupedTiled {
    fn name(&self) -> &'static str {
        ID.0
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
            true,
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

impl Algorithm for GroupedTiled {
    fn writes_channels_first(&self) -> bool {
        true
    }

    fn supports(&self, g: &Conv2dGeometry, _caps: &DeviceCaps, _element: ElementType) -> bool {
        let cin_g = g.cin_per_group();
        g.data_format == DataFormat::ChannelsLast
            && g.groups > 1
            && g.filters_per_group() == 4
            && cin_g.is_multiple_of(4)
            && cin_g <= 16
            && depthwise::taps(g).fits()
    }

    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        depthwise::taps(g).variant(blocked::OutputLayout::new(epilogue.channels_first_output, g.out_w))
    }

    fn workgroups(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk) -> Option<u64> {
        let (_, total) = depthwise::block_grid(g, chunk, BLOCK, g.groups)?;
        Some(total.div_ceil(crate::gpu::kernels::WORKGROUP as u64))
    }

    fn uniform(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        depthwise::block_uniform(g, chunk, epilogue, BLOCK, g.groups)
    }

    fn describe(&self, _variant: &Variant) -> String {
        format!(
            "grouped tiled, 4 f x {}x{} px per invocation",
            blocked::TILE_Y,
            blocked::TILE_X
        )
    }

    fn samples(&self) -> Vec<Sample> {
        Taps::representative()
            .into_iter()
            .enumerate()
            .flat_map(|(i, t)| {
                let groups = 2 + i % 3;
                let cin_g = 4 * (1 + i % 4);
                let s = Sample::new([1, 12, 15, groups * cin_g], 4 * groups as u32, 1)
                    .kernel(t.kernel[0], t.kernel[1])
                    .strides(t.strides[0], t.strides[1])
                    .dilation(t.dilation[0])
                    .groups(groups as u32);
                let s = if i % 2 == 1 { s.same() } else { s };
                // channels_first rows of 13 (no whole vec4s at any stride here), then of 16.
                let mut first = s.channels_first();
                first.input_shape = [1, groups * cin_g, 12, 13];
                let mut rows = s.same().channels_first();
                rows.input_shape = [1, groups * cin_g, 12, 16];
                [s, first, rows]
            })
            .collect()
    }
}
