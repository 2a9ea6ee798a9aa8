//! Cutting a call into chunks that fit the device: whole batches when they fit, else output-row
//! bands with their input halo, each piece's bindings and dispatch within the limits; and folding
//! a dispatch into two dimensions.

use crate::conv::{chunk::input_rows, Chunk, Conv2dGeometry};
use crate::error::{Error, Result};
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::WORKGROUP;
use crate::gpu::program::ElementType;

/// Workgroup counts of one dispatch, folded into (x, y) when x alone would exceed the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dispatch {
    /// Workgroups along x.
    pub x: u32,
    /// Workgroups along y.
    pub y: u32,
}

/// Folds `groups` workgroups into a 2-D grid within `max_per_dim`, or None when it cannot fit.
pub fn fold_dispatch(groups: u64, max_per_dim: u32) -> Option<Dispatch> {
    if groups == 0 {
        return Some(Dispatch { x: 0, y: 0 });
    }
    let max = max_per_dim.max(1) as u64;
    let x = groups.min(max);
    let y = groups.div_ceil(x);
    (y <= max).then_some(Dispatch {
        x: x as u32,
        y: y as u32,
    })
}

/// Workgroups one dispatch may have: within the folded grid, and with u32 invocation indices.
pub fn max_workgroups(caps: &DeviceCaps) -> u64 {
    (caps.max_workgroups_per_dim.max(1) as u64)
        .pow(2)
        .min(u32::MAX as u64 / WORKGROUP as u64)
}

/// The largest `n` in `1..=max` with `fits(n)`, for a `fits` that holds for 1 and is monotone.
pub(crate) fn largest_fitting(max: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (1, max.max(1));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The chunks of `g` when the conv reads `in_c` channels per input pixel and a chunk needs
/// `workgroups(chunk)` workgroups; together they cover every output element exactly once.
///
/// # Errors
/// [`Error::Unsupported`] naming the limit when even one output row of one image cannot fit.
pub fn split(
    g: &Conv2dGeometry,
    caps: &DeviceCaps,
    element: ElementType,
    in_c: usize,
    workgroups: impl Fn(&Chunk) -> Option<u64>,
) -> Result<Vec<Chunk>> {
    let max_bytes = caps.max_tensor_bytes();
    let bytes = element.bytes();
    let in_image = (g.in_h * g.in_w * in_c) as u64 * bytes;
    let out_row = (g.out_w * g.filters) as u64 * bytes;
    let out_image = out_row * g.out_h as u64;
    if g.batch == 0 || g.out_h == 0 || g.out_w == 0 {
        return Ok(Vec::new());
    }
    let max_groups = max_workgroups(caps);
    let groups_for = |chunk: &Chunk| workgroups(chunk).unwrap_or(u64::MAX);
    let fits_images = |n: usize| {
        let n64 = n as u64;
        n64 * in_image <= max_bytes && n64 * out_image <= max_bytes && groups_for(&Chunk::images(g, 0, n)) <= max_groups
    };
    let mut chunks = Vec::new();
    if fits_images(1) {
        let per = largest_fitting(g.batch, fits_images);
        for start in (0..g.batch).step_by(per) {
            chunks.push(Chunk::images(g, start, per.min(g.batch - start)));
        }
        return Ok(chunks);
    }
    // One image is too large: bands of output rows, each with the input rows it reads.
    let fits_rows = |rows: usize, out_start: usize| {
        let band = Chunk::band(g, 0, out_start, rows);
        (band.in_rows * g.in_w * in_c) as u64 * bytes <= max_bytes
            && rows as u64 * out_row <= max_bytes
            && groups_for(&band) <= max_groups
    };
    for n in 0..g.batch {
        let mut start = 0;
        while start < g.out_h {
            if !fits_rows(1, start) {
                let (_, rows) = input_rows(g, start, 1);
                return Err(Error::Unsupported(format!(
                    "one output row of one image (input band of {} bytes) exceeds the device limit of \
                     {max_bytes} bytes per binding",
                    (rows * g.in_w * g.in_c) as u64 * bytes
                )));
            }
            let rows = largest_fitting(g.out_h - start, |r| fits_rows(r, start));
            chunks.push(Chunk::band(g, n, start, rows));
            start += rows;
        }
    }
    Ok(chunks)
}
