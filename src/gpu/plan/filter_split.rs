//! Kernels larger than one binding: the layer runs as slices of its filters (the same filters
//! from each group, so every slice reads the whole input), each slice planned as a layer of its
//! own, and a merge pass writes each slice's output into place. Together the slices cover every
//! filter exactly once.

use crate::conv::{Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::layout::Packing;
use crate::gpu::kernels::merge_filters::{self, SlicePlacement, MERGE_FILTERS};
use crate::gpu::kernels::{Epilogue, Program};
use crate::gpu::program::{ElementType, Variant};

use super::{chunks::largest_fitting, last_axis_step, step, Step};

/// One slice: `per_group` filters from each group, starting at filter `offset` of the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSlice {
    /// The slice's first filter within each group.
    pub offset: usize,
    /// Filters the slice takes from each group.
    pub per_group: usize,
}

/// True when `g`'s kernel, as Keras lays it out and as the vec4 kernels pack it, fits one binding.
pub fn kernel_fits(g: &Conv2dGeometry, caps: &DeviceCaps, element: ElementType) -> bool {
    let packed = Packing::for_geometry(g).map_or(*g, |p| p.geometry(g));
    let len = g.kernel_len().ok().zip(packed.kernel_len().ok()).map(|(a, b)| a.max(b));
    len.and_then(|n| element.bytes_of(n))
        .is_some_and(|bytes| bytes <= caps.max_tensor_bytes())
}

/// The geometry of the slice taking `per_group` filters from each group of `g`.
pub fn slice_geometry(g: &Conv2dGeometry, per_group: usize) -> Conv2dGeometry {
    Conv2dGeometry {
        filters: g.groups * per_group,
        ..*g
    }
}

/// The slices `g` runs as, of as even a size as fits, or `None` when its kernel fits one binding.
///
/// # Errors
/// [`Error::Unsupported`] when even one filter per group does not fit.
pub fn slices(g: &Conv2dGeometry, caps: &DeviceCaps, element: ElementType) -> Result<Option<Vec<FilterSlice>>> {
    if kernel_fits(g, caps, element) {
        return Ok(None);
    }
    let per_group = g.filters / g.groups.max(1);
    if per_group == 0 || !kernel_fits(&slice_geometry(g, 1), caps, element) {
        return Err(Error::Unsupported(format!(
            "the kernel exceeds the device limit of {} bytes per binding even split into single \
             filters per group",
            caps.max_tensor_bytes()
        )));
    }
    let most = largest_fitting(per_group, |s| kernel_fits(&slice_geometry(g, s), caps, element));
    let count = per_group.div_ceil(most);
    let size = per_group.div_ceil(count);
    Ok(Some(
        (0..per_group)
            .step_by(size)
            .map(|offset| FilterSlice {
                offset,
                per_group: size.min(per_group - offset),
            })
            .collect(),
    ))
}

/// The passes after the slices ran: each slice's merge into the layer's output, then the
/// last-axis activation on the whole output (the slices run the element-wise part only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergePlan {
    /// The merge pass of each slice, in the order of [`slices`].
    pub merges: Vec<Step>,
    /// The last-axis activation pass, when the activation has one.
    pub last_axis: Option<Step>,
    /// Elements of the merged (not yet last-axis activated) output.
    pub merged_len: usize,
}

/// The merge plan of `g` cut into `slices`, with the layer's `epilogue`.
///
/// # Errors
/// [`Error::Unsupported`] when the whole output exceeds one binding; [`Error::SizeOverflow`].
pub fn merge_plan(
    g: &Conv2dGeometry,
    slices: &[FilterSlice],
    caps: &DeviceCaps,
    element: ElementType,
    epilogue: &Epilogue,
) -> Result<MergePlan> {
    let pixels = g.batch * g.out_h * g.out_w;
    let merged_len = pixels * g.filters;
    let bytes = element
        .bytes_of(merged_len)
        .ok_or(Error::SizeOverflow("output bytes"))?;
    if bytes > caps.max_tensor_bytes() {
        return Err(Error::Unsupported(format!(
            "a kernel over the binding limit is split over filters, but its output ({bytes} bytes) \
             must then fit one binding ({} bytes)",
            caps.max_tensor_bytes()
        )));
    }
    let plane = match g.data_format {
        DataFormat::ChannelsLast => 0,
        DataFormat::ChannelsFirst => g.out_h * g.out_w,
    };
    let merges = slices
        .iter()
        .map(|s| {
            let placement = SlicePlacement {
                len: pixels * g.groups * s.per_group,
                per_group: s.per_group,
                offset: s.offset,
                groups: g.groups,
                filters: g.filters,
                plane,
            };
            let (uniform, groups) = merge_filters::step(&placement)?;
            let key = (&MERGE_FILTERS as &dyn Program).key(Variant::NONE, element);
            step(caps, key, uniform, groups, merged_len)
        })
        .collect::<Result<_>>()?;
    Ok(MergePlan {
        merges,
        last_axis: last_axis_step(g, caps, element, epilogue, merged_len)?,
        merged_len,
    })
}
