//! The pass that casts a resident input to a layer's storage type and rounds it to the layer's
//! compute dtype, for tensors stored otherwise or whose values are not already in that dtype
//! (uploaded f32 data, another policy's output).
#![allow(missing_docs)] // the uniform's fields mirror the WGSL struct one to one

use bytemuck::bytes_of;

use crate::error::Result;
use crate::gpu::kernels::params::to_u32;
use crate::gpu::kernels::{Program, UniformLayout, WORKGROUP};
use crate::gpu::program::{BindingShape, ElementType, ProgramKey, Variant};
use crate::keras::dtype::FloatType;

/// The pass's shape. Mirrors `RoundParams` in `round_values.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RoundUniform {
    pub len: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// The pass.
pub struct RoundValues;

/// The instance the executor runs.
pub static ROUND_VALUES: RoundValues = RoundValues;

impl Program for RoundValues {
    fn name(&self) -> &'static str {
        "round_values"
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["direction"]
    }

    fn variants(&self) -> Vec<Variant> {
        (0..3).map(|d| Variant::of(&[d])).collect()
    }

    fn body(&self, variant: &Variant) -> String {
        let (src_f32, dst_f32) = match variant.get(0) {
            1 => (true, false),
            2 => (false, true),
            _ => (false, false),
        };
        let (src, load) = if src_f32 {
            ("f32", "src[i]")
        } else {
            ("ElemR", "LD(src, i)")
        };
        let (dst, store) = if dst_f32 {
            ("f32", "dst[i] = ")
        } else {
            ("ElemW", "ST(dst, i, ")
        };
        let close = if dst_f32 { "" } else { ")" };
        include_str!("round_values.wgsl")
            .replace("array<SRC>", &format!("array<{src}>"))
            .replace("array<DST>", &format!("array<{dst}>"))
            .replace("STORE(round_to(LOAD));", &format!("{store}round_to({load}){close};"))
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Pass
    }

    fn uniform_layout(&self) -> UniformLayout {
        crate::uniform_layout!(RoundUniform, "RoundParams", [len, _pad0, _pad1, _pad2])
    }
}

/// The program key of casting `from` to `to`: its variant (0 within one type, 1 from f32 to the
/// half type, 2 from the half type to f32) keyed by the half type where there is one.
pub fn key(from: ElementType, to: ElementType, dtype: FloatType) -> ProgramKey {
    let (direction, element) = match (from, to) {
        (ElementType::F32, ElementType::F16 | ElementType::BF16) => (1, to),
        (ElementType::F16 | ElementType::BF16, ElementType::F32) => (2, from),
        _ => (0, to),
    };
    (&ROUND_VALUES as &dyn Program)
        .key(Variant::of(&[direction]), element)
        .rounded(dtype)
}

/// The uniform bytes and workgroups of converting `len` values.
///
/// # Errors
/// [`crate::Error::SizeOverflow`] when `len` does not fit the uniform.
pub fn step(len: usize) -> Result<(Vec<u8>, u64)> {
    let u = RoundUniform {
        len: to_u32(len, "tensor length")?,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    };
    Ok((bytes_of(&u).to_vec(), (len as u64).div_ceil(WORKGROUP as u64)))
}
