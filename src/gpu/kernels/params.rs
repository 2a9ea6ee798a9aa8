//! The uniforms several algorithms share, and their builders: `ConvUniform` (the direct, depthwise
//! and grouped kernels; `shaders/conv_params.wgsl`) and `IgemmUniform` (the implicit GEMMs;
//! `shaders/igemm_params.wgsl`). The naga test checks their sizes and offsets.
#![allow(missing_docs)] // field names mirror the WGSL structs one to one

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::kernels::{Epilogue, UniformLayout};

/// One conv dispatch's shape. Mirrors `ConvParams` in `shaders/conv_params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ConvUniform {
    pub batch: u32,
    pub in_h: u32,
    pub in_w: u32,
    pub in_c: u32,
    pub out_h: u32,
    pub out_w: u32,
    pub filters: u32,
    pub groups: u32,
    pub kernel_h: u32,
    pub kernel_w: u32,
    pub stride_h: u32,
    pub stride_w: u32,
    pub dil_h: u32,
    pub dil_w: u32,
    pub cin_g: u32,
    pub f_g: u32,
    pub f_tiles: u32,
    pub x_tiles: u32,
    pub channels_first: u32,
    pub has_bias: u32,
    pub activation: u32,
    pub total: u32,
    /// Input row read by output row 0 at kernel row 0, relative to the chunk's first input row.
    pub row_origin: i32,
    /// Input column read by output column 0 at kernel column 0 (`−pad_left`).
    pub col_origin: i32,
}

/// One implicit-GEMM dispatch's shape. Mirrors `IgemmParams` in `shaders/igemm_params.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct IgemmUniform {
    pub m: u32,
    pub out_h: u32,
    pub out_w: u32,
    pub in_h: u32,
    pub in_w: u32,
    pub in_c4: u32,
    pub f4: u32,
    pub groups: u32,
    pub cin4: u32,
    pub fg4: u32,
    pub kernel_h: u32,
    pub kernel_w: u32,
    pub stride_h: u32,
    pub stride_w: u32,
    pub dil_h: u32,
    pub dil_w: u32,
    pub col_tiles: u32,
    pub tiles: u32,
    pub has_bias: u32,
    pub activation: u32,
    pub row_origin: i32,
    pub col_origin: i32,
    /// 1: write the output channels_first (the layer is; no unpack pass follows).
    pub out_nchw: u32,
    pub _pad1: u32,
}

impl ConvUniform {
    /// The layout naga must find for `ConvParams`.
    pub fn layout() -> UniformLayout {
        crate::uniform_layout!(
            ConvUniform,
            "ConvParams",
            [
                batch,
                in_h,
                in_w,
                in_c,
                out_h,
                out_w,
                filters,
                groups,
                kernel_h,
                kernel_w,
                stride_h,
                stride_w,
                dil_h,
                dil_w,
                cin_g,
                f_g,
                f_tiles,
                x_tiles,
                channels_first,
                has_bias,
                activation,
                total,
                row_origin,
                col_origin
            ]
        )
    }
}

impl IgemmUniform {
    /// The layout naga must find for `IgemmParams`.
    pub fn layout() -> UniformLayout {
        crate::uniform_layout!(
            IgemmUniform,
            "IgemmParams",
            [
                m, out_h, out_w, in_h, in_w, in_c4, f4, groups, cin4, fg4, kernel_h, kernel_w, stride_h, stride_w,
                dil_h, dil_w, col_tiles, tiles, has_bias, activation, row_origin, col_origin, out_nchw, _pad1
            ]
        )
    }
}

pub(crate) fn to_u32(v: usize, what: &'static str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::SizeOverflow(what))
}

pub(crate) fn u64_to_u32(v: u64, what: &'static str) -> Result<u32> {
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

/// `ConvUniform` for `chunk`: `f_tiles` and `x_tiles` count the kernel's tiles of filters and
/// columns, `total` its invocations.
pub(crate) fn conv_uniform(
    geom: &Conv2dGeometry,
    chunk: &Chunk,
    epilogue: &Epilogue,
    [f_tiles, x_tiles]: [u64; 2],
    total: u64,
) -> Result<ConvUniform> {
    Ok(ConvUniform {
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
        f_tiles: u64_to_u32(f_tiles, "filter tiles")?,
        x_tiles: u64_to_u32(x_tiles, "column tiles")?,
        // The direct kernel reads and writes this layout; the blocked kernels run packed
        // (channels_last) layers and write channels_first when the epilogue asks.
        channels_first: u32::from(geom.data_format == DataFormat::ChannelsFirst || epilogue.channels_first_output),
        has_bias: u32::from(epilogue.has_bias),
        activation: epilogue.fused_activation(),
        total: u64_to_u32(total, "invocations")?,
        row_origin: row_origin(geom, chunk)?,
        col_origin: col_origin(geom)?,
    })
}

/// `IgemmUniform` for `chunk` (channels_last; channels and filters per group multiples of 4, the
/// input's channels `in_c` after any padding pass): `col_tiles` column tiles per group, `tiles`
/// workgroups in all.
pub(crate) fn igemm_uniform(
    geom: &Conv2dGeometry,
    chunk: &Chunk,
    epilogue: &Epilogue,
    in_c: usize,
    col_tiles: u64,
    tiles: u64,
) -> Result<IgemmUniform> {
    let cin_g = in_c / geom.groups;
    Ok(IgemmUniform {
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
        col_tiles: u64_to_u32(col_tiles, "column tiles")?,
        tiles: u64_to_u32(tiles, "tiles")?,
        has_bias: u32::from(epilogue.has_bias),
        activation: epilogue.fused_activation(),
        row_origin: row_origin(geom, chunk)?,
        col_origin: col_origin(geom)?,
        out_nchw: u32::from(epilogue.channels_first_output),
        _pad1: 0,
    })
}
