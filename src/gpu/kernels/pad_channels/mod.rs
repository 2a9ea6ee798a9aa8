//! The pass that pads channels_last pixels of few channels (RGB stems) to whole vec4s with zeros,
//! so the vec4 GEMMs can read them; their kernel is uploaded padded to match
//! ([`crate::gpu::kernels::WeightPrep::HwioChannelsPadded4`]).
#![allow(missing_docs)] // the uniform's fields mirror the WGSL struct one to one

use bytemuck::bytes_of;

use crate::error::{Error, Result};
use crate::gpu::kernels::params::to_u32;
use crate::gpu::kernels::{Program, UniformLayout, WORKGROUP};
use crate::gpu::program::{BindingShape, Variant};

/// The pass's shape. Mirrors `PadParams` in `pad_channels.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PadUniform {
    pub pixels: u32,
    pub in_c: u32,
    pub c4: u32,
    pub _pad: u32,
}

/// The pass.
pub struct PadChannels;

/// The instance the executor runs.
pub static PAD_CHANNELS: PadChannels = PadChannels;

impl Program for PadChannels {
    fn name(&self) -> &'static str {
        "pad_channels"
    }

    fn body(&self, _variant: &Variant) -> String {
        include_str!("pad_channels.wgsl").to_string()
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Pass
    }

    fn uniform_layout(&self) -> UniformLayout {
        crate::uniform_layout!(PadUniform, "PadParams", [pixels, in_c, c4, _pad])
    }
}

/// The uniform bytes, workgroups and output elements of padding `pixels` pixels of `in_c` channels.
///
/// # Errors
/// [`Error::SizeOverflow`] when a count does not fit the uniform.
pub fn step(pixels: usize, in_c: usize) -> Result<(Vec<u8>, u64, usize)> {
    let c4 = in_c.div_ceil(4);
    let vec4s = pixels.checked_mul(c4).ok_or(Error::SizeOverflow("padded input"))?;
    let u = PadUniform {
        pixels: to_u32(pixels, "pixels")?,
        in_c: to_u32(in_c, "channels")?,
        c4: to_u32(c4, "channels")?,
        _pad: 0,
    };
    to_u32(vec4s, "padded input")?;
    Ok((
        bytes_of(&u).to_vec(),
        (vec4s as u64).div_ceil(WORKGROUP as u64),
        vec4s * 4,
    ))
}
