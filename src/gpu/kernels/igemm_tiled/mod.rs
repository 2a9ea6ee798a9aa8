//! The implicit GEMM with workgroup-memory tiles, the structure that is fast on hardware GPUs, in
//! a family of tile configurations (`tiles.rs`): the rules run the 32x32 / 4x4 one everywhere
//! (`igemm_tiled`); the larger ones (up to 128x128 blocks, 8x8 per invocation, K steps of 8 to
//! 32, double-buffered) are registry entries of their own, offered where the device's limits
//! hold their workgroup, for the tuner to measure. Same layout as the subgroup GEMMs.

use crate::conv::{Chunk, Conv2dGeometry};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::igemm_subgroup::{gemm_tiles, gemm_uniform, vec4_layout};
use crate::gpu::kernels::params::IgemmUniform;
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Family, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

pub mod tiles;

pub use tiles::TileConfig;

/// The rules' tiled GEMM's registry id.
pub const ID: AlgorithmId = AlgorithmId("igemm_tiled");

/// The workgroup-tiled GEMM with one tile configuration.
pub struct IgemmTiled {
    /// Its registry id.
    pub id: AlgorithmId,
    /// Its tiles.
    pub config: TileConfig,
}

const fn tiled(name: &'static str, [bm, bn, rm, rn, bk]: [u32; 5], double_buffer: bool) -> IgemmTiled {
    IgemmTiled {
        id: AlgorithmId(name),
        config: TileConfig {
            bm,
            bn,
            rm,
            rn,
            bk,
            double_buffer,
        },
    }
}

/// The rules' configuration: 32 px × 32 f, 4x4 per invocation, K step 32 (TF.js / ORT Conv2dMM).
pub static TILED: IgemmTiled = tiled(ID.0, [32, 32, 4, 4, 32], false);

/// The configurations offered to the tuner (each checked against the device's workgroup limits).
pub static TUNING_VARIANTS: [IgemmTiled; 8] = [
    tiled("igemm_tiled_64x64_4x4_k16", [64, 64, 4, 4, 16], false),
    tiled("igemm_tiled_64x64_8x8_k16", [64, 64, 8, 8, 16], false),
    tiled("igemm_tiled_64x64_8x8_k8_db", [64, 64, 8, 8, 8], true),
    tiled("igemm_tiled_128x64_8x8_k8", [128, 64, 8, 8, 8], false),
    tiled("igemm_tiled_64x128_8x8_k16", [64, 128, 8, 8, 16], false),
    tiled("igemm_tiled_128x128_8x8_k8", [128, 128, 8, 8, 8], false),
    // 16 KiB of workgroup memory: WebGPU's default limit exactly, more than lavapipe's 16352.
    tiled("igemm_tiled_128x128_8x8_k16", [128, 128, 8, 8, 16], false),
    tiled("igemm_tiled_32x32_4x4_k32_db", [32, 32, 4, 4, 32], true),
];

impl IgemmTiled {
    /// Column tiles per group.
    fn col_tiles(&self, g: &Conv2dGeometry) -> u64 {
        ((g.filters_per_group() / 4) as u64).div_ceil(self.config.bn as u64 / 4)
    }

    /// True when `caps` hold this configuration's workgroup (invocations, sizes, memory) and it
    /// is a whole number of the adapter's subgroups.
    pub fn fits(&self, caps: &DeviceCaps) -> bool {
        let [x, y] = self.config.workgroup();
        let whole_subgroups = caps.subgroup_size == 0 || (x * y).is_multiple_of(caps.subgroup_size);
        caps.holds_workgroup(x, y, self.config.workgroup_bytes()) && whole_subgroups
    }
}

impl Program for IgemmTiled {
    fn name(&self) -> &'static str {
        self.id.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["nchw"]
    }

    fn variants(&self) -> Vec<Variant> {
        vec![Variant::of(&[0]), Variant::of(&[1])]
    }

    fn body(&self, variant: &Variant) -> String {
        tiles::body(&self.config, variant.get(0) != 0)
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

    /// Any vec4 layout: a group of fewer filters than a tile leaves part of its columns idle,
    /// which still beats the direct kernel's one output per lane and scalar loads.
    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, _element: ElementType) -> bool {
        self.fits(caps) && vec4_layout(g)
    }

    fn variant_for(&self, _g: &Conv2dGeometry, epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        Variant::of(&[u32::from(epilogue.channels_first_output)])
    }

    fn workgroups(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk) -> Option<u64> {
        gemm_tiles(g, chunk, self.config.bm as u64, self.col_tiles(g))
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        gemm_uniform(
            g,
            chunk,
            epilogue,
            self.col_tiles(g),
            self.workgroups(g, variant, chunk),
        )
    }

    fn describe(&self, _variant: &Variant) -> String {
        format!("implicit GEMM (workgroup tiles), {}", self.config.describe())
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
