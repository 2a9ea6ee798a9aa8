//! The pass that writes one filter slice's output into the layer's output, for kernels larger
//! than one binding that run as several slices of filters (see `plan::filter_split`).
#![allow(missing_docs)] // the uniform's fields mirror the WGSL struct one to one

use bytemuck::bytes_of;

use crate::error::Result;
use crate::gpu::kernels::params::to_u32;
use crate::gpu::kernels::{Program, UniformLayout, WORKGROUP};
use crate::gpu::program::BindingShape;

/// The pass's shape. Mirrors `MergeParams` in `merge_filters.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MergeFiltersUniform {
    /// Elements of the slice's output.
    pub len: u32,
    /// Filters of the slice (all groups).
    pub slice_filters: u32,
    /// The slice's filters per group.
    pub per_group: u32,
    /// The layer's filters per group.
    pub group_stride: u32,
    /// The slice's first filter within each group.
    pub offset: u32,
    /// The layer's filters.
    pub filters: u32,
    /// `out_h · out_w` for channels_first, 0 for channels_last.
    pub plane: u32,
    pub _pad: u32,
}

/// The pass.
pub struct MergeFilters;

/// The instance the executor runs.
pub static MERGE_FILTERS: MergeFilters = MergeFilters;

impl Program for MergeFilters {
    fn name(&self) -> &'static str {
        "merge_filters"
    }

    fn body(&self, _variant: &crate::gpu::program::Variant) -> String {
        include_str!("merge_filters.wgsl").to_string()
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Pass
    }

    fn uniform_layout(&self) -> UniformLayout {
        crate::uniform_layout!(
            MergeFiltersUniform,
            "MergeParams",
            [
                len,
                slice_filters,
                per_group,
                group_stride,
                offset,
                filters,
                plane,
                _pad
            ]
        )
    }
}

/// Where a slice's output goes in the layer's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlicePlacement {
    /// Elements of the slice's output.
    pub len: usize,
    /// The slice's filters per group, and its first filter within each group.
    pub per_group: usize,
    pub offset: usize,
    /// The layer's groups and filters.
    pub groups: usize,
    pub filters: usize,
    /// `out_h · out_w` for channels_first, 0 for channels_last.
    pub plane: usize,
}

/// The uniform bytes and workgroups of placing one slice.
///
/// # Errors
/// [`crate::Error::SizeOverflow`] when a count does not fit the uniform.
pub fn step(s: &SlicePlacement) -> Result<(Vec<u8>, u64)> {
    let u = MergeFiltersUniform {
        len: to_u32(s.len, "slice output")?,
        slice_filters: to_u32(s.per_group * s.groups, "slice filters")?,
        per_group: to_u32(s.per_group, "slice filters per group")?,
        group_stride: to_u32(s.filters / s.groups.max(1), "filters per group")?,
        offset: to_u32(s.offset, "slice offset")?,
        filters: to_u32(s.filters, "filters")?,
        plane: to_u32(s.plane, "output plane")?,
        _pad: 0,
    };
    Ok((bytes_of(&u).to_vec(), (s.len as u64).div_ceil(WORKGROUP as u64)))
}
