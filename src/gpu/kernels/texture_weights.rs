//! Registry entries for the subgroup GEMMs reading their float32 kernel from an rgba32float
//! texture ([`WeightPrep::texture`](crate::gpu::kernels::WeightPrep::texture): one row per HWIO
//! row `(ky, kx, channel)`, one texel per 4 filters) instead of a storage buffer. On llvmpipe a
//! texel fetch is a gather, about half the cost of a storage load (a per-lane loop with a bounds
//! branch per value), and the weights are two thirds of the wide GEMM's loads at 4 columns a lane.
//! Each entry is its buffer twin with that one change, placed before it in the registry: the twin
//! keeps the layers a texture cannot hold (half types, kernels past the device's texture size).

use crate::conv::{Chunk, Conv2dGeometry};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::{igemm_subgroup, pointwise_planes, winograd, Algorithm, Epilogue, Family, Program, Sample};
use crate::gpu::kernels::{AlgorithmId, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

/// An algorithm whose WGSL can bind its weights as `texture_2d<f32>`.
pub trait TextureBody: Algorithm {
    /// The body of `variant` with the weights at binding 2 a texture read with `textureLoad`.
    fn texture_body(&self, variant: &Variant) -> String;

    /// The texture's rows for `g`: one per tap and channel of a group.
    fn texture_rows(&self, g: &Conv2dGeometry) -> usize {
        g.kernel[0] * g.kernel[1] * g.cin_per_group()
    }
}

/// [`WIDE`]'s registry id.
pub const WIDE_ID: AlgorithmId = AlgorithmId("igemm_subgroup_texture");
/// [`WINOGRAD_F2`]'s registry id.
pub const WINOGRAD_ID: AlgorithmId = AlgorithmId("winograd_f2_texture");
/// [`PLANES`]'s registry id.
pub const PLANES_ID: AlgorithmId = AlgorithmId("pointwise_planes_texture");

/// `inner` with its kernel in a texture.
pub struct TextureWeights {
    inner: &'static dyn TextureBody,
    id: AlgorithmId,
}

/// The wide subgroup GEMM reading a texture. Measured against the buffer twin on seven ResNet50
/// layers (1x1 and 3x3, 7x7 to 56x56 maps; 3 alternating rounds, best median): 49.6 -> 41.1 ms.
pub static WIDE: TextureWeights = TextureWeights {
    inner: &igemm_subgroup::WIDE,
    id: WIDE_ID,
};

/// Winograd F(2x2,3x3) reading its transformed kernel from a texture.
pub static WINOGRAD_F2: TextureWeights = TextureWeights {
    inner: &winograd::WINOGRAD_F2,
    id: WINOGRAD_ID,
};

/// The channels_first 1x1 planes GEMM reading a texture.
pub static PLANES: TextureWeights = TextureWeights {
    inner: &pointwise_planes::PLANES,
    id: PLANES_ID,
};

impl TextureWeights {
    /// True when the kernel of `g` fits a texture on a device with `caps`.
    fn fits(&self, g: &Conv2dGeometry, caps: &DeviceCaps) -> bool {
        let limit = caps.max_texture_2d as usize;
        g.filters.is_multiple_of(4) && g.filters / 4 <= limit && self.inner.texture_rows(g) <= limit
    }
}

impl Program for TextureWeights {
    fn name(&self) -> &'static str {
        self.id.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        self.inner.variant_params()
    }

    fn variants(&self) -> Vec<Variant> {
        self.inner.variants()
    }

    fn body(&self, variant: &Variant) -> String {
        self.inner.texture_body(variant)
    }

    fn constants(&self, variant: &Variant) -> Vec<(&'static str, f64)> {
        self.inner.constants(variant)
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::ConvTextureWeights
    }

    fn uniform_layout(&self) -> UniformLayout {
        self.inner.uniform_layout()
    }

    fn elements(&self) -> &'static [ElementType] {
        &[ElementType::F32]
    }

    fn stores_single_values(&self, variant: &Variant) -> bool {
        self.inner.stores_single_values(variant)
    }
}

impl Algorithm for TextureWeights {
    fn family(&self) -> Family {
        self.inner.family()
    }

    fn reads_any_layout(&self) -> bool {
        self.inner.reads_any_layout()
    }

    fn writes_channels_first(&self) -> bool {
        self.inner.writes_channels_first()
    }

    fn texture_weights(&self) -> bool {
        true
    }

    fn winograd_weights(&self) -> bool {
        self.inner.winograd_weights()
    }

    /// What the twin supports, in float32, with a kernel of at most the device's 2-D texture
    /// size in texels.
    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, element: ElementType) -> bool {
        element == ElementType::F32 && self.fits(g, caps) && self.inner.supports(g, caps, element)
    }

    fn preferred_by_rules(&self, g: &Conv2dGeometry) -> bool {
        self.inner.preferred_by_rules(g)
    }

    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, caps: &DeviceCaps) -> Variant {
        self.inner.variant_for(g, epilogue, caps)
    }

    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
        self.inner.workgroups(g, variant, chunk)
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        self.inner.uniform(g, variant, chunk, epilogue)
    }

    fn describe(&self, variant: &Variant) -> String {
        format!("{}, weights in a texture", self.inner.describe(variant))
    }

    fn samples(&self) -> Vec<Sample> {
        self.inner.samples()
    }
}
