//! The implicit GEMM with workgroup-memory tiles (`igemm_tiled.wgsl`), the structure that is fast
//! on hardware GPUs: an 8x8 workgroup owns 32 pixels × 32 filters and stages the gathered input
//! and weight tiles of each K step of 32 in 8 KiB of workgroup memory. Same layout as the
//! subgroup GEMMs.

use crate::conv::{Chunk, Conv2dGeometry};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::igemm_subgroup::{gemm_tiles, gemm_uniform, vec4_layout};
use crate::gpu::kernels::params::IgemmUniform;
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Family, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

/// The registry id.
pub const ID: AlgorithmId = AlgorithmId("igemm_tiled");

/// Workgroup memory of `igemm_tiled.wgsl`: two 32 × 8 vec4 tiles.
pub const WORKGROUP_BYTES: u32 = 2 * 32 * 8 * 16;

/// The workgroup-tiled GEMM.
pub struct IgemmTiled;

/// The registry's instance.
pub static TILED: IgemmTiled = IgemmTiled;

/// Column tiles (32 filters each) per group.
fn col_tiles(g: &Conv2dGeometry) -> u64 {
    ((g.filters_per_group() / 4) as u64).div_ceil(8)
}

impl Program for IgemmTiled {
    fn name(&self) -> &'static str {
        ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["nchw"]
    }

    fn variants(&self) -> Vec<Variant> {
        vec![Variant::of(&[0]), Variant::of(&[1])]
    }

    fn body(&self, variant: &Variant) -> String {
        let store = crate::gpu::kernels::store::store_functions(variant.get(0) != 0, "p.f4", "p.f4 * 4u");
        include_str!("igemm_tiled.wgsl").replace("STORE_FUNCTIONS", &store)
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        IgemmUniform::layout()
    }
}

impl Algorithm for IgemmTiled {
    fn writes_channels_first(&self) -> bool {
        true
    }

    fn family(&self) -> Family {
        Family::WorkgroupTiles
    }

    /// Any vec4 layout: a group of fewer than 32 filters leaves part of the tile's columns idle,
    /// which still beats the direct kernel's one output per lane and scalar loads.
    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, _element: ElementType) -> bool {
        caps.holds_workgroup(8, 8, WORKGROUP_BYTES) && vec4_layout(g)
    }

    fn variant_for(&self, _g: &Conv2dGeometry, epilogue: &Epilogue) -> Variant {
        Variant::of(&[u32::from(epilogue.channels_first_output)])
    }

    fn workgroups(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk) -> Option<u64> {
        gemm_tiles(g, chunk, 32, col_tiles(g))
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        gemm_uniform(g, chunk, epilogue, col_tiles(g), self.workgroups(g, variant, chunk))
    }

    fn describe(&self, _variant: &Variant) -> String {
        "implicit GEMM (workgroup tiles), tile 32 px x 32 f".to_string()
    }

    fn samples(&self) -> Vec<Sample> {
        vec![
            // Groups 1/2/3, padded RGB, partial K steps and column tiles.
            Sample::new([1, 9, 10, 12], 48, 3).same(),
            Sample::new([2, 8, 7, 16], 64, 3).groups(2).strides(2, 2).same(),
            Sample::new([1, 7, 9, 36], 48, 3).groups(3).dilation(2),
            Sample::new([1, 11, 10, 3], 16, 5).same(),
            Sample::new([1, 5, 5, 40], 100, 1),
            Sample::new([1, 16, 9, 10], 32, 3).same().channels_first(),
        ]
    }
}
