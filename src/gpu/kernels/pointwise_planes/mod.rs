//! 1x1 convolutions of channels_first layers read and written as they lie: out[n, f, ·] =
//! Σ_c W[c, f] · in[n, c, ·] is a GEMM whose pixels run along the planes, so no layout pass has
//! to transpose the input into pixel vec4s nor the output back (on llvmpipe, where every storage
//! access is a per-lane loop, those two passes cost more than the GEMM on MobileNetV2's 1x1
//! layers). Stride 1, one group, channels and filters multiples of 4, one image within a binding
//! (so a chunk is whole images and every plane starts where the tile arithmetic says).

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::columns;
use crate::gpu::kernels::igemm_subgroup::gemm_uniform;
use crate::gpu::kernels::params::IgemmUniform;
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Family, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

pub mod kernel;

/// The registry id.
pub const ID: AlgorithmId = AlgorithmId("pointwise_planes");

/// The planes GEMM (`kernel.rs`).
pub struct PointwisePlanes;

/// The registry's instance.
pub static PLANES: PointwisePlanes = PointwisePlanes;

fn pixels_per_plane(g: &Conv2dGeometry) -> usize {
    g.out_h * g.out_w
}

/// Filter vec4 columns per lane at most: 4, or 2 where the planes are read and written a value at
/// a time (with 4, its 256 guarded single stores took llvmpipe 12 s to compile cold, the vec4
/// form 6.5 s; such planes are small, 7x7 maps, so the extra column tiles cost little).
fn max_cols(vec: bool) -> u32 {
    if vec {
        4
    } else {
        2
    }
}

fn col_tiles(g: &Conv2dGeometry, cols: u32) -> u64 {
    columns::column_tiles(g.filters / 4, cols)
}

impl Program for PointwisePlanes {
    fn name(&self) -> &'static str {
        ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["cols", "vec"]
    }

    fn variants(&self) -> Vec<Variant> {
        (0..2)
            .flat_map(|vec| (1..=max_cols(vec != 0)).map(move |cols| Variant::of(&[cols, vec])))
            .collect()
    }

    fn body(&self, variant: &Variant) -> String {
        kernel::body(variant.get(0), variant.get(1) != 0, false)
    }

    fn stores_single_values(&self, variant: &Variant) -> bool {
        variant.get(1) == 0
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        IgemmUniform::layout()
    }
}

impl crate::gpu::kernels::texture_weights::TextureBody for PointwisePlanes {
    fn texture_body(&self, variant: &Variant) -> String {
        kernel::body(variant.get(0), variant.get(1) != 0, true)
    }
}

impl Algorithm for PointwisePlanes {
    fn family(&self) -> Family {
        Family::SubgroupBroadcast
    }

    fn reads_any_layout(&self) -> bool {
        true
    }

    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, element: ElementType) -> bool {
        let image_fits = |channels: usize| {
            element
                .bytes_of(g.in_h * g.in_w * channels)
                .is_some_and(|b| b <= caps.max_tensor_bytes())
        };
        // A bf16 value of a plane that does not hold whole vec4s shares its word with another
        // lane's: there is no word-owning single-value store (program/access.rs).
        let stores_whole_words = element != ElementType::BF16 || pixels_per_plane(g).is_multiple_of(4);
        caps.subgroup8
            && g.data_format == DataFormat::ChannelsFirst
            && g.kernel == [1, 1]
            && g.strides == [1, 1]
            && g.pad == [0; 4]
            && g.groups == 1
            && g.in_c.is_multiple_of(4)
            && g.filters.is_multiple_of(4)
            && image_fits(g.in_c.max(g.filters))
            && stores_whole_words
    }

    fn variant_for(&self, g: &Conv2dGeometry, _epilogue: &Epilogue, caps: &DeviceCaps) -> Variant {
        let vec = pixels_per_plane(g).is_multiple_of(4);
        let row_tiles = (g.batch * pixels_per_plane(g).div_ceil(kernel::TILE_PIXELS as usize)) as u64;
        let cols = columns::balanced_lane_columns(g.filters / 4, max_cols(vec), row_tiles, caps.threads);
        Variant::of(&[cols, u32::from(vec)])
    }

    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
        (chunk.batch_len as u64)
            .checked_mul((pixels_per_plane(g) as u64).div_ceil(kernel::TILE_PIXELS as u64))?
            .checked_mul(col_tiles(g, variant.get(0)))
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        // The kernel indexes whole planes; `supports` keeps each image within one binding, so the
        // planner never cuts an image into row bands here.
        if chunk.out_rows != g.out_h {
            return Err(Error::Unsupported(format!(
                "{} runs whole images, not a band of {} of {} rows",
                ID.0, chunk.out_rows, g.out_h
            )));
        }
        let cols = col_tiles(g, variant.get(0));
        gemm_uniform(g, chunk, epilogue, cols, self.workgroups(g, variant, chunk))
    }

    fn describe(&self, variant: &Variant) -> String {
        format!(
            "1x1 GEMM on channels_first planes (subgroup broadcast), tile {} px x {} f{}",
            kernel::TILE_PIXELS,
            32 * variant.get(0),
            if variant.get(1) != 0 {
                ""
            } else {
                ", single-value plane access"
            }
        )
    }

    fn samples(&self) -> Vec<Sample> {
        let first = |[n, c, h, w]: [usize; 4], filters: u32| {
            let mut s = Sample::new([n, h, w, c], filters, 1).channels_first();
            s.input_shape = [n, c, h, w];
            s
        };
        vec![
            // vec4 planes: one column, a partial pixel tile, batch 2; 2, 3 and 4 columns.
            first([2, 8, 6, 10], 8),
            first([1, 8, 5, 8], 60),
            first([1, 12, 9, 12], 88),
            first([3, 4, 4, 5], 128).same(),
            // 3 columns over two column tiles, the second partial.
            first([1, 8, 4, 6], 144),
            // Planes without whole vec4s (7x7, 1x3 maps): 2 columns, partial column tiles (a 1x1
            // map runs as its channels_last twin, see `plan::single_pixel_twin`).
            first([2, 12, 7, 7], 36),
            first([2, 16, 1, 3], 44),
            // Two pixel tiles, the second partial.
            first([1, 8, 11, 9], 16),
        ]
    }
}
