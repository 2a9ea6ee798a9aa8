//! The layout passes as programs: their uniforms (`PackUniform`, `UnpackUniform`, mirrored by
//! `shaders/layout_params.wgsl`), their variants (override constants) and their WGSL.
#![allow(missing_docs)] // the uniforms' fields mirror the WGSL structs one to one

use crate::gpu::kernels::{Program, UniformLayout};
use crate::gpu::program::{BindingShape, Variant};

/// The pack pass's shape. Mirrors `PackParams` in `pack_input.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PackUniform {
    pub pixels: u32,
    pub in_c: u32,
    pub c4: u32,
    pub hw: u32,
    pub channels_first: u32,
    pub cin_g: u32,
    pub cp: u32,
    pub mult: u32,
    pub fast: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// The unpack pass's shape. Mirrors `UnpackParams` in `unpack_output.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct UnpackUniform {
    pub pixels: u32,
    pub filters: u32,
    pub fp: u32,
    pub hw: u32,
    pub channels_first: u32,
    pub f_g: u32,
    pub fgp: u32,
    pub total: u32,
    pub fast: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// A layout pass: its name, its WGSL, its uniform and its override constants (one variant number each).
pub struct LayoutPass {
    pub(super) name: &'static str,
    pub(super) body: &'static str,
    pub(super) uniform: fn() -> UniformLayout,
    pub(super) overrides: &'static [&'static str],
    pub(super) variants: fn() -> Vec<Variant>,
}

fn no_variants() -> Vec<Variant> {
    vec![Variant::NONE]
}

fn mode_variants() -> Vec<Variant> {
    (0..3).map(|mode| Variant::of(&[mode])).collect()
}

pub(super) fn layout_variants() -> Vec<Variant> {
    vec![Variant::of(&[0]), Variant::of(&[1])]
}

fn pack_layout() -> UniformLayout {
    crate::uniform_layout!(
        PackUniform,
        "PackParams",
        [
            pixels,
            in_c,
            c4,
            hw,
            channels_first,
            cin_g,
            cp,
            mult,
            fast,
            _pad0,
            _pad1,
            _pad2
        ]
    )
}

fn unpack_layout() -> UniformLayout {
    crate::uniform_layout!(
        UnpackUniform,
        "UnpackParams",
        [
            pixels,
            filters,
            fp,
            hw,
            channels_first,
            f_g,
            fgp,
            total,
            fast,
            _pad0,
            _pad1,
            _pad2
        ]
    )
}

/// Packs channels_last input with 4 scalar reads per packed vec4.
pub static PACK_INPUT: LayoutPass = LayoutPass {
    name: "pack_input",
    body: include_str!("pack_input.wgsl"),
    uniform: pack_layout,
    overrides: &["MODE"],
    variants: mode_variants,
};
/// Packs any channels_first planes, 4 pixels x 4 channels per invocation with scalar reads.
pub static PACK_PLANES_ANY: LayoutPass = LayoutPass {
    name: "pack_planes_any",
    body: include_str!("pack_planes_any.wgsl"),
    uniform: pack_layout,
    overrides: &["MODE"],
    variants: mode_variants,
};
/// Packs channels_first planes of whole vec4s, 4 pixels x 4 channels per invocation.
pub static PACK_PLANES: LayoutPass = LayoutPass {
    name: "pack_planes",
    body: include_str!("pack_planes.wgsl"),
    uniform: pack_layout,
    overrides: &["MODE"],
    variants: mode_variants,
};
/// Unpacks into any layout, one value per invocation.
pub static UNPACK_OUTPUT: LayoutPass = LayoutPass {
    name: "unpack_output",
    body: include_str!("unpack_output.wgsl"),
    uniform: unpack_layout,
    overrides: &["NCHW"],
    variants: layout_variants,
};
/// Unpacks into channels_first planes of whole vec4s, 4 pixels x 4 filters per invocation.
pub static UNPACK_PLANES: LayoutPass = LayoutPass {
    name: "unpack_planes",
    body: include_str!("unpack_planes.wgsl"),
    uniform: unpack_layout,
    overrides: &[],
    variants: no_variants,
};

impl Program for LayoutPass {
    fn name(&self) -> &'static str {
        self.name
    }

    fn variant_params(&self) -> &'static [&'static str] {
        self.overrides
    }

    fn variants(&self) -> Vec<Variant> {
        (self.variants)()
    }

    fn constants(&self, variant: &Variant) -> Vec<(&'static str, f64)> {
        self.overrides
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, variant.get(i) as f64))
            .collect()
    }

    fn body(&self, _variant: &Variant) -> String {
        self.body.to_string()
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Pass
    }

    fn uniform_layout(&self) -> UniformLayout {
        (self.uniform)()
    }
}
