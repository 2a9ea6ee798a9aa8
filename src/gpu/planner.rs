//! The planner: which kernel variant runs, with which tile, and how the work is split so that every
//! binding, buffer and dispatch stays within the device's limits. Pure: geometry + limits in, plan out.

use crate::error::{Error, Result};
use crate::geometry::Conv2dGeometry;
use crate::gpu::depthwise_source::{self, Taps};
use crate::gpu::pipelines::Kernel;

/// Invocations per workgroup in every kernel (`WORKGROUP` in the shaders).
pub const WORKGROUP: u32 = 64;
/// Accumulators per invocation (`MAX_TILE` in `conv_direct.wgsl`).
pub const MAX_TILE: u32 = 16;

/// The device limits the planner respects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    /// `max_storage_buffer_binding_size`.
    pub max_binding: u64,
    /// `max_buffer_size`.
    pub max_buffer: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub max_workgroups_per_dim: u32,
    /// Subgroups of exactly 8 lanes are available (the `SUBGROUP` feature on an adapter such as
    /// lavapipe): the implicit-GEMM kernel shaped for software adapters can run.
    pub subgroup8: bool,
    /// The workgroup-memory tiled GEMM is the one to use for dense shapes (a hardware GPU whose
    /// limits hold its 8x8 workgroup and 8 KiB of tiles).
    pub workgroup_tiles: bool,
}

impl PlanLimits {
    /// The limits of a wgpu device; `subgroup8` from its features and adapter.
    pub fn of(limits: &wgpu::Limits, subgroup8: bool, workgroup_tiles: bool) -> Self {
        Self {
            max_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
            subgroup8,
            workgroup_tiles: workgroup_tiles && tiles_fit(limits),
        }
    }

    /// The largest byte size one tensor binding may have.
    pub fn max_tensor_bytes(&self) -> u64 {
        self.max_binding.min(self.max_buffer)
    }
}

/// True when `limits` hold the tiled GEMM's 8x8 workgroup and its 8 KiB of workgroup memory.
pub fn tiles_fit(limits: &wgpu::Limits) -> bool {
    limits.max_compute_workgroup_storage_size >= TILED_WORKGROUP_BYTES
        && limits.max_compute_invocations_per_workgroup >= 64
        && limits.max_compute_workgroup_size_x >= 8
        && limits.max_compute_workgroup_size_y >= 8
}

/// Workgroup memory of `conv_igemm_tiled.wgsl`: two 32 x 8 vec4 tiles.
pub const TILED_WORKGROUP_BYTES: u32 = 2 * 32 * 8 * 16;

/// The kernel variant: tile shape, part of the pipeline cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Filters per invocation (all of one group).
    pub filters: u32,
    /// Output columns per invocation.
    pub columns: u32,
}

/// One piece of the work: a batch range and an output-row range, with the input rows it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// First image.
    pub batch_start: usize,
    /// Images in the chunk.
    pub batch_len: usize,
    /// First output row.
    pub out_row_start: usize,
    /// Output rows in the chunk.
    pub out_rows: usize,
    /// First input row the chunk reads (its halo included).
    pub in_row_start: usize,
    /// Input rows the chunk reads.
    pub in_rows: usize,
}

/// Workgroup counts of one dispatch, folded into (x, y) when x alone would exceed the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dispatch {
    /// Workgroups along x.
    pub x: u32,
    /// Workgroups along y.
    pub y: u32,
}

/// Which kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelChoice {
    /// `conv_direct.wgsl`: any configuration, any adapter.
    Direct(Tile),
    /// The generated implicit GEMM for 8-lane subgroups: `rows` output pixels × `8·4·cols` filters
    /// per workgroup (channels_last, channels and filters per group multiples of 4).
    Igemm {
        /// Output pixels per workgroup (a multiple of 8).
        rows: u32,
        /// vec4 filter columns per lane.
        cols: u32,
    },
    /// The implicit GEMM after a pass that pads few input channels (RGB stems) to a multiple of 4
    /// (`groups = 1`, channels_last, filters a multiple of 4).
    IgemmPadded {
        /// Output pixels per workgroup.
        rows: u32,
        /// vec4 filter columns per lane.
        cols: u32,
    },
    /// The narrow implicit GEMM for 8-lane subgroups (`narrow_source.rs`): groups of at most 16
    /// filters; each lane owns `8·lane_rows`-pixel tiles' `lane_rows` pixels × all `cols` vec4
    /// columns of its group (channels_last, channels per group a multiple of 4, or padded to one
    /// when `padded` and `groups = 1`).
    Narrow {
        /// Output pixels per lane (the workgroup owns 8 times as many).
        lane_rows: u32,
        /// vec4 columns: the group's filters / 4.
        cols: u32,
        /// A pass first pads the input channels to a multiple of 4 (RGB stems).
        padded: bool,
    },
    /// `conv_igemm_tiled.wgsl`: the implicit GEMM with workgroup-memory tiles (32 pixels x 32
    /// filters per 8x8 workgroup) for hardware GPUs; same layouts as `Igemm`/`IgemmPadded`.
    Tiled {
        /// A pass first pads the input channels to a multiple of 4 (RGB stems).
        padded: bool,
    },
    /// `conv_depthwise.wgsl`: one filter per channel, channels_last, channels a multiple of 4.
    Depthwise,
    /// The generated tiled depthwise kernel (`depthwise_source.rs`) for one kernel size, stride
    /// and dilation: same layouts as `Depthwise`, each input vec4 loaded once per output block.
    DepthwiseTiled(Taps),
    /// The same blocked kernel for groups of 4 filters and channels per group a multiple of 4
    /// (`depthwise_source::grouped_body`): one lane per group, a mat4 × vec4 per tap.
    GroupedTiled(Taps),
}

impl KernelChoice {
    /// The pipeline variant that runs the convolution.
    pub fn pipeline(self) -> Kernel {
        match self {
            Self::Direct(tile) => Kernel::ConvDirect(tile),
            Self::Igemm { rows, cols } | Self::IgemmPadded { rows, cols } => Kernel::Igemm { rows, cols },
            Self::Narrow { lane_rows, cols, .. } => Kernel::IgemmNarrow { lane_rows, cols },
            Self::Tiled { .. } => Kernel::IgemmTiled,
            Self::Depthwise => Kernel::Depthwise,
            Self::DepthwiseTiled(taps) => Kernel::DepthwiseTiled(taps),
            Self::GroupedTiled(taps) => Kernel::GroupedTiled(taps),
        }
    }

    /// True when a pass first pads the input channels to a multiple of 4.
    pub fn pads_channels(self) -> bool {
        matches!(
            self,
            Self::IgemmPadded { .. } | Self::Narrow { padded: true, .. } | Self::Tiled { padded: true }
        )
    }
}

/// Rows per workgroup of the implicit GEMM: 32 keeps llvmpipe's compile under a second.
pub const IGEMM_ROWS: u32 = 64;

/// What runs and how it is cut up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The kernel.
    pub kernel: KernelChoice,
    /// The pieces, in order; together they cover every output element exactly once.
    pub chunks: Vec<Chunk>,
}

impl Plan {
    /// One line for logs and tools: the kernel and the split.
    pub fn describe(&self) -> String {
        match self.kernel {
            KernelChoice::Direct(t) => {
                format!(
                    "direct conv, tile {}f x {}x, {} chunk(s)",
                    t.filters,
                    t.columns,
                    self.chunks.len()
                )
            }
            KernelChoice::Igemm { rows, cols } => format!(
                "implicit GEMM (subgroup broadcast), tile {rows} px x {} f, {} chunk(s)",
                32 * cols,
                self.chunks.len()
            ),
            KernelChoice::IgemmPadded { rows, cols } => format!(
                "channels padded to 4 + implicit GEMM, tile {rows} px x {} f, {} chunk(s)",
                32 * cols,
                self.chunks.len()
            ),
            KernelChoice::Narrow {
                lane_rows,
                cols,
                padded,
            } => format!(
                "{}narrow implicit GEMM (weights broadcast), tile {} px x {} f, {} chunk(s)",
                if padded { "channels padded to 4 + " } else { "" },
                8 * lane_rows,
                4 * cols,
                self.chunks.len()
            ),
            KernelChoice::Tiled { padded } => format!(
                "{}implicit GEMM (workgroup tiles), tile 32 px x 32 f, {} chunk(s)",
                if padded { "channels padded to 4 + " } else { "" },
                self.chunks.len()
            ),
            KernelChoice::GroupedTiled(_) => format!(
                "grouped tiled, 4 f x {}x{} px per invocation, {} chunk(s)",
                depthwise_source::TILE_Y,
                depthwise_source::TILE_X,
                self.chunks.len()
            ),
            KernelChoice::DepthwiseTiled(_) => format!(
                "depthwise tiled, 4 ch x {}x{} px per invocation, {} chunk(s)",
                depthwise_source::TILE_Y,
                depthwise_source::TILE_X,
                self.chunks.len()
            ),
            KernelChoice::Depthwise => format!("depthwise, 4 ch x 4 px per invocation, {} chunk(s)", self.chunks.len()),
        }
    }
}

/// The tile for a geometry: wide in filters when groups have many, wide in columns otherwise
/// (depthwise has one filter per group).
pub fn choose_tile(g: &Conv2dGeometry) -> Tile {
    let fg = g.filters_per_group() as u32;
    let filters = if fg >= 4 { 4 } else { fg.max(1) };
    let columns = (MAX_TILE / filters).min(4);
    Tile { filters, columns }
}

/// The kernel for a geometry on an adapter: the implicit GEMM where 8-lane subgroups exist and the
/// channels fit its vec4 layout, the direct kernel otherwise.
pub fn choose_kernel(g: &Conv2dGeometry, limits: &PlanLimits) -> KernelChoice {
    let (cin_g, f_g) = (g.cin_per_group(), g.filters_per_group());
    let channels_last = g.data_format == crate::config::DataFormat::ChannelsLast;
    let taps = Taps {
        kernel: g.kernel.map(|v| v as u32),
        strides: g.strides.map(|v| v as u32),
        dilation: g.dilation.map(|v| v as u32),
    };
    if channels_last && cin_g == 1 && f_g == 1 && g.in_c.is_multiple_of(4) {
        return if taps.fits() {
            KernelChoice::DepthwiseTiled(taps)
        } else {
            KernelChoice::Depthwise
        };
    }
    // Groups of 4 filters over few channels (ResNeXt): the blocked kernel loads each input vec4
    // once per output block instead of once per tap.
    if channels_last && g.groups > 1 && f_g == 4 && cin_g % 4 == 0 && cin_g <= 16 && taps.fits() {
        return KernelChoice::GroupedTiled(taps);
    }
    let cols = (f_g / 4).div_ceil(8).clamp(1, 4) as u32;
    if limits.subgroup8 && channels_last && f_g % 4 == 0 && f_g <= 16 {
        let padded = cin_g % 4 != 0;
        if !padded || g.groups == 1 {
            let cols = (f_g / 4) as u32;
            // 16 pixels per lane: measured against 4 and 8 (resnext_g32 22.7 / 16.0 / 15.4 ms,
            // image_big 315 / 241 / 227 ms); fewer, larger workgroups cost less on llvmpipe.
            return KernelChoice::Narrow {
                lane_rows: 16,
                cols,
                padded,
            };
        }
    }
    // On hardware GPUs the workgroup-tiled GEMM, where a group fills at least half its 32 columns;
    // narrower groups keep the direct kernel's 4-filter tiles.
    if limits.workgroup_tiles && !limits.subgroup8 && channels_last && f_g % 4 == 0 && f_g >= 16 {
        if cin_g % 4 == 0 {
            return KernelChoice::Tiled { padded: false };
        }
        if g.groups == 1 {
            return KernelChoice::Tiled { padded: true };
        }
    }
    if limits.subgroup8 && channels_last && f_g % 4 == 0 {
        if cin_g % 4 == 0 {
            return KernelChoice::Igemm { rows: IGEMM_ROWS, cols };
        }
        if g.groups == 1 {
            return KernelChoice::IgemmPadded { rows: IGEMM_ROWS, cols };
        }
    }
    KernelChoice::Direct(choose_tile(g))
}

/// Invocations needed for `chunk` under the direct kernel's `tile`.
pub fn invocations(g: &Conv2dGeometry, tile: Tile, chunk: &Chunk) -> Option<u64> {
    let f_tiles = (g.filters_per_group() as u64).div_ceil(tile.filters as u64);
    let x_tiles = (g.out_w as u64).div_ceil(tile.columns as u64);
    (chunk.batch_len as u64)
        .checked_mul(chunk.out_rows as u64)?
        .checked_mul(x_tiles)?
        .checked_mul(f_tiles)?
        .checked_mul(g.groups as u64)
}

/// Column tiles per group of the implicit GEMM.
pub fn igemm_col_tiles(g: &Conv2dGeometry, cols: u32) -> u64 {
    ((g.filters_per_group() / 4) as u64).div_ceil(8 * cols as u64)
}

/// Column tiles (32 filters each) per group of the workgroup-tiled GEMM.
pub fn tiled_col_tiles(g: &Conv2dGeometry) -> u64 {
    ((g.filters_per_group() / 4) as u64).div_ceil(8)
}

/// Workgroups needed for `chunk` under `kernel`.
pub fn workgroups(g: &Conv2dGeometry, kernel: KernelChoice, chunk: &Chunk) -> Option<u64> {
    match kernel {
        KernelChoice::Direct(tile) => Some(invocations(g, tile, chunk)?.div_ceil(WORKGROUP as u64)),
        KernelChoice::Igemm { rows, cols } | KernelChoice::IgemmPadded { rows, cols } => {
            let m = (chunk.batch_len as u64)
                .checked_mul(chunk.out_rows as u64)?
                .checked_mul(g.out_w as u64)?;
            m.div_ceil(rows as u64)
                .checked_mul(g.groups as u64)?
                .checked_mul(igemm_col_tiles(g, cols))
        }
        KernelChoice::Narrow { lane_rows, .. } => {
            let m = (chunk.batch_len as u64)
                .checked_mul(chunk.out_rows as u64)?
                .checked_mul(g.out_w as u64)?;
            m.div_ceil(8 * lane_rows as u64).checked_mul(g.groups as u64)
        }
        KernelChoice::Tiled { .. } => {
            let m = (chunk.batch_len as u64)
                .checked_mul(chunk.out_rows as u64)?
                .checked_mul(g.out_w as u64)?;
            m.div_ceil(32)
                .checked_mul(g.groups as u64)?
                .checked_mul(tiled_col_tiles(g))
        }
        KernelChoice::Depthwise | KernelChoice::DepthwiseTiled(_) | KernelChoice::GroupedTiled(_) => {
            Some(block_grid(g, kernel, chunk)?.invocations()?.div_ceil(WORKGROUP as u64))
        }
    }
}

/// How the depthwise-family kernels lay invocations out: one per lane (channel vec4, or group for
/// the grouped kernel) × output block of `rows` × `cols`.
#[derive(Debug, Clone, Copy)]
pub struct BlockGrid {
    /// Images × row blocks.
    pub row_blocks: u64,
    /// Column blocks per row block (`x_tiles` in the uniform).
    pub col_blocks: u64,
    /// Invocations per block.
    pub lanes: u64,
}

impl BlockGrid {
    /// Invocations of the whole grid.
    pub fn invocations(&self) -> Option<u64> {
        self.row_blocks.checked_mul(self.col_blocks)?.checked_mul(self.lanes)
    }
}

/// The [`BlockGrid`] of `chunk` for a depthwise-family `kernel` (None for other kernels).
pub fn block_grid(g: &Conv2dGeometry, kernel: KernelChoice, chunk: &Chunk) -> Option<BlockGrid> {
    let (rows, cols, lanes) = match kernel {
        KernelChoice::Depthwise => (1, 4, g.in_c / 4),
        KernelChoice::DepthwiseTiled(_) => (depthwise_source::TILE_Y, depthwise_source::TILE_X, g.in_c / 4),
        KernelChoice::GroupedTiled(_) => (depthwise_source::TILE_Y, depthwise_source::TILE_X, g.groups),
        _ => return None,
    };
    Some(BlockGrid {
        row_blocks: (chunk.batch_len as u64).checked_mul((chunk.out_rows as u64).div_ceil(rows as u64))?,
        col_blocks: (g.out_w as u64).div_ceil(cols as u64),
        lanes: lanes as u64,
    })
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

/// Input rows an output-row range reads, clamped to the input: `[start, start + len)`.
fn input_rows(g: &Conv2dGeometry, out_start: usize, out_rows: usize) -> (usize, usize) {
    let eff_k = (g.kernel[0] - 1) * g.dilation[0] + 1;
    let first = (out_start * g.strides[0]) as i64 - g.pad[0] as i64;
    let last = ((out_start + out_rows - 1) * g.strides[0] + eff_k) as i64 - g.pad[0] as i64; // exclusive
    let start = first.clamp(0, g.in_h as i64) as usize;
    let end = last.clamp(0, g.in_h as i64) as usize;
    (start, end.saturating_sub(start))
}

/// The largest `n` in `1..=max` with `fits(n)`, for a `fits` that holds for 1 and is monotone.
fn largest_fitting(max: usize, fits: impl Fn(usize) -> bool) -> usize {
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

/// Plans a convolution within `limits`: whole batches when they fit, else output-row bands with
/// their input halo, each piece's bindings and dispatch within the limits.
///
/// # Errors
/// [`Error::Unsupported`] naming the limit when even one output row of one image (or the kernel)
/// cannot fit, or the dispatch cannot be folded.
pub fn plan(g: &Conv2dGeometry, limits: &PlanLimits) -> Result<Plan> {
    let kernel = choose_kernel(g, limits);
    let max_bytes = limits.max_tensor_bytes();
    let unsupported = |what: String| {
        Error::Unsupported(format!(
            "{what} exceeds the device limit of {max_bytes} bytes per binding"
        ))
    };
    let kernel_bytes = g.kernel_len()? as u64 * 4;
    if kernel_bytes > max_bytes {
        return Err(unsupported(format!("the kernel ({kernel_bytes} bytes)")));
    }
    // The channel-padded path also holds the input with channels rounded up to 4.
    let in_c = if kernel.pads_channels() {
        g.in_c.div_ceil(4) * 4
    } else {
        g.in_c
    };
    let in_image = (g.in_h * g.in_w * in_c) as u64 * 4;
    let out_row = (g.out_w * g.filters) as u64 * 4;
    let out_image = out_row * g.out_h as u64;
    let mut chunks = Vec::new();
    if g.batch == 0 || g.out_h == 0 || g.out_w == 0 {
        return Ok(Plan { kernel, chunks });
    }
    // Workgroups of one dispatch: within the folded grid, and with u32 invocation indices.
    let max_groups = (limits.max_workgroups_per_dim.max(1) as u64)
        .pow(2)
        .min(u32::MAX as u64 / WORKGROUP as u64);
    let groups_for = |batch_len: usize, out_rows: usize| {
        let chunk = Chunk {
            batch_start: 0,
            batch_len,
            out_row_start: 0,
            out_rows,
            in_row_start: 0,
            in_rows: 0,
        };
        workgroups(g, kernel, &chunk).unwrap_or(u64::MAX)
    };
    let fits_images = |n: u64| {
        n * in_image <= max_bytes && n * out_image <= max_bytes && groups_for(n as usize, g.out_h) <= max_groups
    };
    if fits_images(1) {
        let per = largest_fitting(g.batch, |n| fits_images(n as u64));
        for start in (0..g.batch).step_by(per) {
            let len = per.min(g.batch - start);
            chunks.push(Chunk {
                batch_start: start,
                batch_len: len,
                out_row_start: 0,
                out_rows: g.out_h,
                in_row_start: 0,
                in_rows: g.in_h,
            });
        }
        return Ok(Plan { kernel, chunks });
    }
    // One image is too large: bands of output rows, each with the input rows it reads.
    let fits_rows = |rows: usize, out_start: usize| {
        let (_, in_rows) = input_rows(g, out_start, rows);
        (in_rows * g.in_w * in_c) as u64 * 4 <= max_bytes
            && rows as u64 * out_row <= max_bytes
            && groups_for(1, rows) <= max_groups
    };
    for n in 0..g.batch {
        let mut start = 0;
        while start < g.out_h {
            if !fits_rows(1, start) {
                return Err(unsupported(format!(
                    "one output row of one image (input band of {} bytes)",
                    {
                        let (_, r) = input_rows(g, start, 1);
                        (r * g.in_w * g.in_c) as u64 * 4
                    }
                )));
            }
            let rows = largest_fitting(g.out_h - start, |n| fits_rows(n, start));
            let (in_row_start, in_rows) = input_rows(g, start, rows);
            chunks.push(Chunk {
                batch_start: n,
                batch_len: 1,
                out_row_start: start,
                out_rows: rows,
                in_row_start,
                in_rows,
            });
            start += rows;
        }
    }
    Ok(Plan { kernel, chunks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataFormat, Padding};
    use crate::geometry::ConvParams;

    fn geometry(
        shape: [usize; 4],
        k: u32,
        s: u32,
        d: u32,
        filters: u32,
        groups: u32,
        padding: Padding,
    ) -> Conv2dGeometry {
        let params = ConvParams {
            filters,
            kernel_size: [k, k],
            strides: [s, s],
            dilation_rate: [d, d],
            padding,
            groups,
            data_format: DataFormat::ChannelsLast,
        };
        Conv2dGeometry::new(&params, shape).unwrap()
    }

    /// Every output element is covered exactly once, and every chunk fits the limits.
    fn check(g: &Conv2dGeometry, limits: &PlanLimits) -> Plan {
        let plan = plan(g, limits).unwrap();
        let mut covered = vec![0u8; g.batch * g.out_h];
        for c in &plan.chunks {
            for n in c.batch_start..c.batch_start + c.batch_len {
                for r in c.out_row_start..c.out_row_start + c.out_rows {
                    covered[n * g.out_h + r] += 1;
                }
            }
            let in_bytes = (c.batch_len * c.in_rows * g.in_w * g.in_c * 4) as u64;
            let out_bytes = (c.batch_len * c.out_rows * g.out_w * g.filters * 4) as u64;
            assert!(
                in_bytes <= limits.max_tensor_bytes() && out_bytes <= limits.max_tensor_bytes(),
                "{c:?}"
            );
            let d = fold_dispatch(workgroups(g, plan.kernel, c).unwrap(), limits.max_workgroups_per_dim).unwrap();
            assert!(d.x <= limits.max_workgroups_per_dim && d.y <= limits.max_workgroups_per_dim);
            // The band holds every input row its outputs read.
            let (start, len) = input_rows(g, c.out_row_start, c.out_rows);
            assert_eq!((c.in_row_start, c.in_rows), (start, len));
        }
        assert!(covered.iter().all(|&c| c == 1), "coverage {covered:?}");
        plan
    }

    #[test]
    fn splits_cover_every_output_once_within_limits() {
        let tiny = PlanLimits {
            max_binding: 64 * 1024,
            max_buffer: 256 * 1024,
            subgroup8: false,
            workgroup_tiles: false,
            max_workgroups_per_dim: 8,
        };
        let roomy = PlanLimits {
            max_binding: 128 << 20,
            max_buffer: 256 << 20,
            subgroup8: false,
            workgroup_tiles: false,
            max_workgroups_per_dim: 65535,
        };
        for (shape, k, s, d, f, groups, padding) in [
            ([3, 40, 37, 6], 3, 1, 1, 8, 2, Padding::Same),
            ([1, 90, 61, 4], 5, 2, 1, 6, 1, Padding::Same),
            ([2, 70, 50, 3], 3, 1, 3, 3, 3, Padding::Valid),
            ([64, 30, 30, 2], 3, 1, 1, 4, 1, Padding::Valid),
        ] {
            let g = geometry(shape, k, s, d, f, groups, padding);
            assert!(check(&g, &tiny).chunks.len() > 1);
            assert_eq!(check(&g, &roomy).chunks.len(), 1);
        }
        let big = geometry([1, 2048, 2048, 1], 3, 1, 1, 16, 1, Padding::Same);
        assert!(check(&big, &roomy).chunks.len() >= 2);
    }

    #[test]
    fn folds_and_refusals() {
        assert_eq!(fold_dispatch(70_000, 65535), Some(Dispatch { x: 65535, y: 2 }));
        assert_eq!(fold_dispatch(65, 8), None);
        assert_eq!(fold_dispatch(0, 8), Some(Dispatch { x: 0, y: 0 }));
        let g = geometry([1, 8, 8, 512], 3, 1, 1, 512, 1, Padding::Same);
        let tiny = PlanLimits {
            max_binding: 64 * 1024,
            max_buffer: 64 * 1024,
            subgroup8: false,
            workgroup_tiles: false,
            max_workgroups_per_dim: 8,
        };
        let err = plan(&g, &tiny).unwrap_err();
        assert!(
            err.to_string().contains("kernel") && err.to_string().contains("65536"),
            "{err}"
        );
    }
}
