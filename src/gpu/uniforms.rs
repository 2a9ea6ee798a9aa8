//! The uniform of each conv kernel for one chunk, and how many workgroups it dispatches.

use crate::config::DataFormat;
use crate::error::{Error, Result};
use crate::geometry::Conv2dGeometry;
use crate::gpu::params::{ConvUniform, IgemmUniform};
use crate::gpu::planner::{self, Chunk, KernelChoice, Tile};

pub(crate) fn to_u32(v: usize, what: &'static str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::SizeOverflow(what))
}

/// Input row read by the chunk's output row 0 at kernel row 0, relative to the chunk's first input row.
fn row_origin(geom: &Conv2dGeometry, chunk: &Chunk) -> Result<i32> {
    let origin = (chunk.out_row_start * geom.strides[0]) as i64 - geom.pad[0] as i64 - chunk.in_row_start as i64;
    i32::try_from(origin).map_err(|_| Error::SizeOverflow("row origin"))
}

fn col_origin(geom: &Conv2dGeometry) -> Result<i32> {
    i32::try_from(-(geom.pad[2] as i64)).map_err(|_| Error::SizeOverflow("left padding"))
}

/// `conv_direct.wgsl`'s uniform.
pub(crate) fn direct(
    geom: &Conv2dGeometry,
    chunk: &Chunk,
    tile: Tile,
    activation: u32,
    has_bias: bool,
) -> Result<(ConvUniform, u64)> {
    let invocations = planner::invocations(geom, tile, chunk).ok_or(Error::SizeOverflow("invocation count"))?;
    let groups =
        planner::workgroups(geom, KernelChoice::Direct(tile), chunk).ok_or(Error::SizeOverflow("workgroups"))?;
    let params = ConvUniform {
        batch: to_u32(chunk.batch_len, "batch")?,
        in_h: to_u32(chunk.in_rows, "input rows")?,
        in_w: to_u32(geom.in_w, "input width")?,
        in_c: to_u32(geom.in_c, "input channels")?,
        out_h: to_u32(chunk.out_rows, "output rows")?,
        out_w: to_u32(geom.out_w, "output width")?,
        filters: to_u32(geom.filters, "filters")?,
        groups: to_u32(geom.groups, "groups")?,
        kernel_h: to_u32(geom.kernel[0], "kernel height")?,
        kernel_w: to_u32(geom.kernel[1], "kernel width")?,
        stride_h: to_u32(geom.strides[0], "stride")?,
        stride_w: to_u32(geom.strides[1], "stride")?,
        dil_h: to_u32(geom.dilation[0], "dilation")?,
        dil_w: to_u32(geom.dilation[1], "dilation")?,
        cin_g: to_u32(geom.cin_per_group(), "channels per group")?,
        f_g: to_u32(geom.filters_per_group(), "filters per group")?,
        f_tiles: to_u32(geom.filters_per_group().div_ceil(tile.filters as usize), "filter tiles")?,
        x_tiles: to_u32(geom.out_w.div_ceil(tile.columns as usize), "column tiles")?,
        channels_first: u32::from(geom.data_format == DataFormat::ChannelsFirst),
        has_bias: u32::from(has_bias),
        activation,
        total: u32::try_from(invocations).map_err(|_| Error::SizeOverflow("invocations"))?,
        row_origin: row_origin(geom, chunk)?,
        col_origin: col_origin(geom)?,
    };
    Ok((params, groups))
}

/// The depthwise kernels' uniform: `ConvParams` with vec4 channels and `x_tiles`/`total` counted
/// in the kernel's output blocks (4 columns for `Depthwise`, the tiled kernel's block otherwise).
pub(crate) fn depthwise(
    geom: &Conv2dGeometry,
    chunk: &Chunk,
    kernel: KernelChoice,
    activation: u32,
    has_bias: bool,
) -> Result<(ConvUniform, u64)> {
    let tile = Tile { filters: 4, columns: 4 };
    let (mut params, _) = direct(geom, chunk, tile, activation, has_bias)?;
    let groups = planner::workgroups(geom, kernel, chunk).ok_or(Error::SizeOverflow("workgroups"))?;
    let grid = planner::block_grid(geom, kernel, chunk).ok_or(Error::SizeOverflow("block grid"))?;
    params.x_tiles = u32::try_from(grid.col_blocks).map_err(|_| Error::SizeOverflow("column tiles"))?;
    params.total = grid
        .invocations()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or(Error::SizeOverflow("invocations"))?;
    Ok((params, groups))
}

/// The implicit GEMM's uniform (channels_last; channels and filters per group multiples of 4, or
/// `padded_channels` when a padding pass rounded the input's channels up).
/// `kernel` is one of the implicit GEMMs (wide or narrow).
pub(crate) fn igemm(
    geom: &Conv2dGeometry,
    chunk: &Chunk,
    kernel: KernelChoice,
    activation: u32,
    has_bias: bool,
    padded_channels: Option<usize>,
) -> Result<(IgemmUniform, u64)> {
    let col_tiles = match kernel {
        KernelChoice::Igemm { cols, .. } | KernelChoice::IgemmPadded { cols, .. } => {
            planner::igemm_col_tiles(geom, cols)
        }
        KernelChoice::Tiled { .. } => planner::tiled_col_tiles(geom),
        _ => 1, // the narrow GEMM: one tile holds all of a group's columns
    };
    let (in_c, cin_g) = match padded_channels {
        Some(c) => (c, c),
        None => (geom.in_c, geom.cin_per_group()),
    };
    let groups = planner::workgroups(geom, kernel, chunk).ok_or(Error::SizeOverflow("workgroups"))?;
    let params = IgemmUniform {
        m: to_u32(chunk.batch_len * chunk.out_rows * geom.out_w, "output pixels")?,
        out_h: to_u32(chunk.out_rows, "output rows")?,
        out_w: to_u32(geom.out_w, "output width")?,
        in_h: to_u32(chunk.in_rows, "input rows")?,
        in_w: to_u32(geom.in_w, "input width")?,
        in_c4: to_u32(in_c / 4, "input channels")?,
        f4: to_u32(geom.filters / 4, "filters")?,
        groups: to_u32(geom.groups, "groups")?,
        cin4: to_u32(cin_g / 4, "channels per group")?,
        fg4: to_u32(geom.filters_per_group() / 4, "filters per group")?,
        kernel_h: to_u32(geom.kernel[0], "kernel height")?,
        kernel_w: to_u32(geom.kernel[1], "kernel width")?,
        stride_h: to_u32(geom.strides[0], "stride")?,
        stride_w: to_u32(geom.strides[1], "stride")?,
        dil_h: to_u32(geom.dilation[0], "dilation")?,
        dil_w: to_u32(geom.dilation[1], "dilation")?,
        col_tiles: u32::try_from(col_tiles).map_err(|_| Error::SizeOverflow("column tiles"))?,
        tiles: u32::try_from(groups).map_err(|_| Error::SizeOverflow("tiles"))?,
        has_bias: u32::from(has_bias),
        activation,
        row_origin: row_origin(geom, chunk)?,
        col_origin: col_origin(geom)?,
        _pad0: 0,
        _pad1: 0,
    };
    Ok((params, groups))
}
