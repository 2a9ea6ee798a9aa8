//! Uniform structs shared with WGSL: kept in sync with `shaders/common.wgsl` (a test checks the sizes with naga).
#![allow(missing_docs)] // field names mirror the WGSL structs one to one

/// One conv dispatch's shape. Mirrors `ConvParams` in `shaders/common.wgsl`.
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

/// The last-axis pass's shape. Mirrors `LastAxisParams` in `shaders/common.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LastAxisUniform {
    pub lanes: u32,
    pub len: u32,
    pub activation: u32,
    pub _pad: u32,
}

/// One implicit-GEMM dispatch's shape. Mirrors `IgemmParams` in `shaders/common.wgsl`.
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
    pub _pad0: u32,
    pub _pad1: u32,
}

/// The channel-padding pass's shape. Mirrors `PadParams` in `shaders/common.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PadUniform {
    pub pixels: u32,
    pub in_c: u32,
    pub c4: u32,
    pub _pad: u32,
}
