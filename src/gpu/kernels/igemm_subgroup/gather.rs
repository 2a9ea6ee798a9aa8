//! WGSL shared by the subgroup GEMMs: bindings and entry point (one 8-lane workgroup per tile),
//! each lane's pixel coordinates, and the tap loops that gather the input with stride, dilation
//! and padding folded in.

use crate::gpu::kernels::store;
use crate::gpu::program::WgslWriter;

/// Opens the kernel: bindings, entry point, and the tile index (`live` is false for the surplus
/// workgroups of a folded dispatch).
pub(crate) fn header(w: &mut WgslWriter, nchw: bool) {
    w.lines(
        "@group(0) @binding(0) var<uniform> p: IgemmParams;
        @group(0) @binding(1) var<storage, read> input: array<Elem4>;
        @group(0) @binding(2) var<storage, read> weights: array<Elem4>;
        @group(0) @binding(3) var<storage, read> bias: array<Elem4>;
        @group(0) @binding(4) var<storage, read_write> output: array<Elem4>;
        ",
    );
    w.lines(&store::store_functions(nchw, "p.f4", "p.f4 * 4u"));
    w.lines(
        "@compute @workgroup_size(8)
        fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
        // Dispatches beyond the per-dimension limit are folded into y. Surplus workgroups redo the
        // last tile without storing: an early return would make every later subgroup op divergent.
        let folded = wg.y * nwg.x + wg.x;
        let live = folded < p.tiles;
        let tile = min(folded, p.tiles - 1u);",
    );
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
