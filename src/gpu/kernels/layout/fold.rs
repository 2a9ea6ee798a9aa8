//! Folding the kernel columns of a strided layer with few channels (the RGB stems) into its
//! channels: `x'[n, y, ox, kx·C + c] = x[n, y, ox·sw + kx·dw − pad_left, c]`, so the conv becomes
//! one of `kh × 1` taps over `ceil4(kw·C)` channels on a map `out_w` wide. The vec4 GEMMs then walk
//! several channel vec4s per tap instead of one padded vec4 per tap (measured on ResNet50's 7×7
//! stride-2 stem: 13.4 ms folded against 22.4 ms padded to 4 channels, on the same kernel); the
//! folded input is `kw·C / (sw·4)` times the padded one, so only strided layers fold.

use bytemuck::bytes_of;

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::kernels::params::to_u32;
use crate::gpu::kernels::{UniformLayout, WORKGROUP};
use crate::gpu::program::Variant;

use super::passes::layout_variants;
use super::{ceil4, LayoutPass, PassStep};

/// True when `g` runs folded: one group, at most 3 channels (padded to 4, a quarter or more of
/// every tap's vec4 would be zeros), a column stride of 2 or more, and fewer channel vec4s per
/// kernel row folded than padded. Measured both ways: ResNet50's 7x7 RGB stem (6 vec4s a row
/// instead of 7) 25.5 -> 18 ms with the fold pass; MobileNetV2's 3x3 RGB stem (3 either way)
/// 3.0-3.5 -> 4.3-4.5 ms, the pass costing more than the 6 taps it saves.
pub fn folds(g: &Conv2dGeometry) -> bool {
    let kw = g.kernel[1];
    g.groups == 1 && g.in_c <= 3 && g.strides[1] >= 2 && (kw * g.in_c).div_ceil(4) < kw * g.in_c.div_ceil(4)
}

/// The folded channels of `g`.
pub fn channels(g: &Conv2dGeometry) -> usize {
    ceil4(g.kernel[1] * g.in_c)
}

/// The geometry the conv runs: channels_last, `kh × 1` taps over the folded channels of a map
/// `out_w` wide, `filters` filters (padded).
pub fn geometry(g: &Conv2dGeometry, channels: usize, filters: usize) -> Conv2dGeometry {
    let mut p = *g;
    p.data_format = DataFormat::ChannelsLast;
    p.in_w = g.out_w;
    p.in_c = channels;
    p.filters = filters;
    p.kernel = [g.kernel[0], 1];
    p.strides = [g.strides[0], 1];
    p.dilation = [g.dilation[0], 1];
    p.pad = [g.pad[0], g.pad[1], 0, 0];
    p
}

/// The HWIO kernel `[kh, kw, cin, f]` as `[kh, 1, channels, filters]`: per kernel row, the rows
/// `(kx, c)` are already in the folded channels' order; padding channels and filters get 0.
pub fn kernel(kernel: &[f32], [kh, kw, cin, f]: [usize; 4], channels: usize, filters: usize) -> Vec<f32> {
    let mut out = vec![0.0; kh * channels * filters];
    for ky in 0..kh {
        for row in 0..kw * cin {
            let src = (ky * kw * cin + row) * f;
            let dst = (ky * channels + row) * filters;
            out[dst..dst + f].copy_from_slice(&kernel[src..src + f]);
        }
    }
    out
}

/// The fold pass's shape. Mirrors `FoldParams` in `fold_columns.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[allow(missing_docs)] // the fields mirror the WGSL struct one to one
pub struct FoldUniform {
    pub pixels: u32,
    pub c4: u32,
    pub in_c: u32,
    pub in_w: u32,
    pub out_w: u32,
    pub rows: u32,
    pub kernel_w: u32,
    pub stride_w: u32,
    pub dil_w: u32,
    pub col_origin: i32,
    pub _pad0: u32,
    pub _pad1: u32,
}

fn fold_layout() -> UniformLayout {
    crate::uniform_layout!(
        FoldUniform,
        "FoldParams",
        [pixels, c4, in_c, in_w, out_w, rows, kernel_w, stride_w, dil_w, col_origin, _pad0, _pad1]
    )
}

/// Folds a chunk's input (either layout), one folded pixel per invocation.
pub static FOLD_COLUMNS: LayoutPass = LayoutPass {
    name: "fold_columns",
    body: include_str!("fold_columns.wgsl"),
    uniform: fold_layout,
    overrides: &["NCHW"],
    variants: layout_variants,
};

/// The fold pass for `chunk` of `g` into `channels`.
///
/// # Errors
/// [`Error::SizeOverflow`] when a count does not fit the uniform.
pub fn pack_step(g: &Conv2dGeometry, chunk: &Chunk, channels: usize) -> Result<PassStep> {
    let pixels = chunk.batch_len * chunk.in_rows * g.out_w;
    let c4 = channels / 4;
    let u = FoldUniform {
        pixels: to_u32(pixels, "pixels")?,
        c4: to_u32(c4, "folded channels")?,
        in_c: to_u32(g.in_c, "channels")?,
        in_w: to_u32(g.in_w, "input width")?,
        out_w: to_u32(g.out_w, "output width")?,
        rows: to_u32(chunk.in_rows, "input rows")?,
        kernel_w: to_u32(g.kernel[1], "kernel width")?,
        stride_w: to_u32(g.strides[1], "stride")?,
        dil_w: to_u32(g.dilation[1], "dilation")?,
        col_origin: i32::try_from(-(g.pad[2] as i64)).map_err(|_| Error::SizeOverflow("left padding"))?,
        _pad0: 0,
        _pad1: 0,
    };
    let vec4s = pixels.checked_mul(c4).ok_or(Error::SizeOverflow("folded input"))?;
    to_u32(vec4s, "folded input")?;
    let variant = Variant::of(&[u32::from(g.data_format == DataFormat::ChannelsFirst)]);
    let groups = (pixels as u64).div_ceil(WORKGROUP as u64);
    Ok((&FOLD_COLUMNS, variant, bytes_of(&u).to_vec(), groups, vec4s * 4))
}
