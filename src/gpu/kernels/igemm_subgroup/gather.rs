//! WGSL shared by the subgroup GEMMs: bindings and entry point (one 8-lane workgroup per tile),
//! each lane's pixel coordinates, and the tap loops that gather the input with stride, dilation
//! and padding folded in.

use crate::gpu::kernels::{parts, store};
use crate::gpu::program::WgslWriter;

/// Opens the kernel: bindings (the weights in a texture when `texture_weights`), entry point,
/// and the tile index (`live` is false for the surplus workgroups of a folded dispatch).
pub(crate) fn header(w: &mut WgslWriter, nchw: bool, texture_weights: bool) {
    parts::conv_bindings_of(w, "IgemmParams", texture_weights);
    w.lines(&store::store_functions(nchw, "p.f4", "p.f4 * 4u"));
    parts::subgroup_entry(w);
}

/// For the `n` pixels a lane owns (`row0 + lane + 8j`, clamped to the last): their output
/// column, image row base and the input row/column read at tap (0, 0).
pub(crate) fn pixel_coords(w: &mut WgslWriter, n: u32) {
    for j in 0..n {
        w.line(format!("let m{j} = min(row0 + lane + {}u, p.m - 1u);", 8 * j));
        w.line(format!("let ox{j} = m{j} % p.out_w;"));
        w.line(format!("let oyn{j} = m{j} / p.out_w;"));
        w.line(format!(
            "let y0_{j} = i32((oyn{j} % p.out_h) * p.stride_h) + p.row_origin;"
        ));
        w.line(format!("let x0_{j} = i32(ox{j} * p.stride_w) + p.col_origin;"));
        w.line(format!("let img{j} = (oyn{j} / p.out_h) * p.in_h;"));
    }
}

/// Opens the tap loops (two levels, closed by the caller) and writes, per pixel, whether the tap
/// reads inside the input and the index of its first channel vec4 of the group.
pub(crate) fn tap_loops(w: &mut WgslWriter, n: u32) {
    w.lines(
        "let c_off = g * p.cin4;
        for (var ky = 0u; ky < p.kernel_h; ky++) {
        for (var kx = 0u; kx < p.kernel_w; kx++) {",
    );
    for j in 0..n {
        w.line(format!("let iy{j} = y0_{j} + i32(ky * p.dil_h);"));
        w.line(format!("let ix{j} = x0_{j} + i32(kx * p.dil_w);"));
        w.line(format!(
            "let ok{j} = iy{j} >= 0 && iy{j} < i32(p.in_h) && ix{j} >= 0 && ix{j} < i32(p.in_w);"
        ));
        w.line(format!(
            "let base{j} = select(0u, ((img{j} + u32(iy{j})) * p.in_w + u32(ix{j})) * p.in_c4 + c_off, ok{j});"
        ));
    }
}
