//! The pass for activations that reduce over the last axis (softmax, log_softmax, sparsemax, glu):
//! one invocation per lane of `len` contiguous values, after the conv kernel wrote its output.
#![allow(missing_docs)] // the uniform's fields mirror the WGSL struct one to one

use bytemuck::bytes_of;

use crate::error::Result;
use crate::gpu::kernels::params::to_u32;
use crate::gpu::kernels::{Program, UniformLayout, WORKGROUP};
use crate::gpu::program::{BindingShape, Variant};

/// The pass's shape. Mirrors `LastAxisParams` in `last_axis.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LastAxisUniform {
    pub lanes: u32,
    pub len: u32,
    pub activation: u32,
    pub _pad: u32,
}

/// The pass.
pub struct LastAxis;

/// The instance the executor runs.
pub static LAST_AXIS: LastAxis = LastAxis;

impl Program for LastAxis {
    fn name(&self) -> &'static str {
        "last_axis"
    }

    fn body(&self, _variant: &Variant) -> String {
        include_str!("last_axis.wgsl").to_string()
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Pass
    }

    fn uniform_layout(&self) -> UniformLayout {
        crate::uniform_layout!(LastAxisUniform, "LastAxisParams", [lanes, len, activation, _pad])
    }
}

/// The uniform bytes and workgroups of applying activation `activation` (its shader id) to
/// `lanes` lanes of `len` values.
///
/// # Errors
/// [`crate::Error::SizeOverflow`] when a count does not fit the uniform.
pub fn step(lanes: usize, len: usize, activation: u32) -> Result<(Vec<u8>, u64)> {
    let u = LastAxisUniform {
        lanes: to_u32(lanes, "lanes")?,
        len: to_u32(len, "last axis")?,
        activation,
        _pad: 0,
    };
    Ok((bytes_of(&u).to_vec(), (lanes as u64).div_ceil(WORKGROUP as u64)))
}
