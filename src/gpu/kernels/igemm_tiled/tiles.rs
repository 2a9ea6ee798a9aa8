//! The WGSL of the workgroup-tiled implicit GEMM for one tile configuration: the structure that
//! is fast on hardware GPUs (TF.js Conv2DMM and ORT Conv2dMM at 32x32 / 4x4; the fastest
//! published WGSL GEMMs at 128x128 / 8x8, KERNELS.md §6). M = output pixels, N = filters of one
//! group, K = taps × channels of the group. A workgroup owns `bm` pixels × `bn` filters; per K
//! step of `bk` it stages the gathered input tile and the weight tile in workgroup memory (two
//! of each when double-buffered: the next step loads while this one computes, one barrier a
//! step), then each invocation updates `rm` pixels × `rn` filters from them. Stride, dilation
//! and padding are folded into the gather; the group index comes from the dispatch.

use crate::gpu::kernels::{parts, store};
use crate::gpu::program::WgslWriter;

/// One tile configuration (all counts in scalars; `rn`, `bn`, `bk` multiples of 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileConfig {
    /// Output pixels per workgroup.
    pub bm: u32,
    /// Filters per workgroup.
    pub bn: u32,
    /// Pixels per invocation.
    pub rm: u32,
    /// Filters per invocation.
    pub rn: u32,
    /// K (taps × channels) per step.
    pub bk: u32,
    /// Two sets of tiles, the next step loaded while this one computes.
    pub double_buffer: bool,
}

impl TileConfig {
    /// Invocations along x (filter columns) and y (pixel rows).
    pub const fn workgroup(&self) -> [u32; 2] {
        [self.bn / self.rn, self.bm / self.rm]
    }

    /// Workgroup memory bytes: the input and weight tiles, twice when double-buffered.
    pub const fn workgroup_bytes(&self) -> u32 {
        let tiles = if self.double_buffer { 2 } else { 1 };
        tiles * (self.bm * self.bk + self.bk * self.bn) * 4
    }

    /// `bm x bn / rm x rn / k bk (double-buffered)`.
    pub fn describe(&self) -> String {
        format!(
            "{} px x {} f per workgroup, {}x{} per invocation, K step {}{}",
            self.bm,
            self.bn,
            self.rm,
            self.rn,
            self.bk,
            if self.double_buffer { ", double-buffered" } else { "" }
        )
    }
}

/// The kernel for `c`, writing a channels_first output when `nchw`.
pub fn body(c: &TileConfig, nchw: bool) -> String {
    let [wx, wy] = c.workgroup();
    let (bn4, rn4, bk4) = (c.bn / 4, c.rn / 4, c.bk / 4);
    let invocations = wx * wy;
    let bufs = if c.double_buffer { 2 } else { 1 };
    let mut w = WgslWriter::new();
    parts::conv_bindings(&mut w, "IgemmParams");
    w.lines(&store::store_functions(nchw, "p.f4", "p.f4 * 4u"));
    w.line(format!(
        "var<workgroup> a_tile: array<array<array<vec4<f32>, {bk4}>, {}>, {bufs}>; // [buf][pixel][k vec4]",
        c.bm
    ));
    w.line(format!(
        "var<workgroup> b_tile: array<array<array<vec4<f32>, {bn4}>, {}>, {bufs}>; // [buf][k][filter vec4]",
        c.bk
    ));
    w.lines(
        "// Input vec4 `k4` (= tap * cin4 + channel vec4) of output pixel `m` in group `g`; zero outside.
        fn gather(m: u32, k4: u32, k4_total: u32, g: u32) -> vec4<f32> {
        if (m >= p.m || k4 >= k4_total) {
        return vec4<f32>(0.0);
        }
        let tap = k4 / p.cin4;
        let c4 = k4 % p.cin4;
        let ky = tap / p.kernel_w;
        let kx = tap % p.kernel_w;
        let ox = m % p.out_w;
        let oyn = m / p.out_w;
        let iy = i32((oyn % p.out_h) * p.stride_h + ky * p.dil_h) + p.row_origin;
        let ix = i32(ox * p.stride_w + kx * p.dil_w) + p.col_origin;
        if (iy < 0 || iy >= i32(p.in_h) || ix < 0 || ix >= i32(p.in_w)) {
        return vec4<f32>(0.0);
        }
        let img = (oyn / p.out_h) * p.in_h;
        return LD4(input, ((img + u32(iy)) * p.in_w + u32(ix)) * p.in_c4 + g * p.cin4 + c4);
        }",
    );
    // Stages step `k0` into buffer `buf`.
    w.line("fn load_step(buf: u32, k0: u32, lid: u32, row0: u32, ct: u32, g: u32, k4_total: u32) {");
    w.line(format!(
        "for (var e = lid; e < {}u; e += {invocations}u) {{",
        c.bm * bk4
    ));
    w.line(format!(
        "a_tile[buf][e / {bk4}u][e % {bk4}u] = gather(row0 + e / {bk4}u, k0 + e % {bk4}u, k4_total, g);"
    ));
    w.line("}");
    w.line(format!(
        "for (var e = lid; e < {}u; e += {invocations}u) {{",
        c.bk * bn4
    ));
    w.line(format!("let k = k0 * 4u + e / {bn4}u;"));
    w.line(format!("let c = ct * {bn4}u + e % {bn4}u;"));
    w.lines(
        "var b = vec4<f32>(0.0);
        if (k < k4_total * 4u && c < p.fg4) {
        b = LD4(weights, k * p.f4 + g * p.fg4 + c);
        }",
    );
    w.line(format!("b_tile[buf][e / {bn4}u][e % {bn4}u] = b;"));
    w.line("}");
    w.line("}");
    w.line(format!("@compute @workgroup_size({wx}, {wy})"));
    w.lines(
        "fn main(
        @builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32,
        ) {
        // Surplus workgroups of a folded dispatch redo the last tile without storing: barriers
        // need every invocation of the workgroup to reach them.
        let folded = wg.y * nwg.x + wg.x;
        let live = folded < p.tiles;
        let tile = min(folded, p.tiles - 1u);
        let ct = tile % p.col_tiles;
        let rest = tile / p.col_tiles;
        let g = rest % p.groups;",
    );
    w.line(format!("let row0 = (rest / p.groups) * {}u;", c.bm));
    w.line("let k4_total = p.kernel_h * p.kernel_w * p.cin4;");
    for i in 0..c.rm * rn4 {
        w.line(format!("var acc{i} = vec4<f32>(0.0);"));
    }
    let compute = |w: &mut WgslWriter, buf: &str| {
        w.line(format!("for (var kk = 0u; kk < {bk4}u; kk++) {{"));
        for n in 0..rn4 {
            for q in 0..4 {
                w.line(format!(
                    "let b{n}_{q} = b_tile[{buf}][kk * 4u + {q}u][lid3.x + {}u];",
                    wx * n
                ));
            }
        }
        for r in 0..c.rm {
            w.line(format!("let a{r} = a_tile[{buf}][lid3.y + {}u][kk];", wy * r));
            for n in 0..rn4 {
                w.line(format!(
                    "acc{} += b{n}_0 * a{r}.x + b{n}_1 * a{r}.y + b{n}_2 * a{r}.z + b{n}_3 * a{r}.w;",
                    r * rn4 + n
                ));
            }
        }
        w.line("}");
    };
    if c.double_buffer {
        w.line("load_step(0u, 0u, lid, row0, ct, g, k4_total);");
        w.line("workgroupBarrier();");
        w.line(format!("let steps = (k4_total + {bk4}u - 1u) / {bk4}u;"));
        w.line("for (var s = 0u; s < steps; s++) {");
        w.line("let cur = s % 2u;");
        w.line(format!(
            "if (s + 1u < steps) {{ load_step(1u - cur, (s + 1u) * {bk4}u, lid, row0, ct, g, k4_total); }}"
        ));
        compute(&mut w, "cur");
        w.line("workgroupBarrier();");
        w.line("}");
    } else {
        w.line(format!("for (var k0 = 0u; k0 < k4_total; k0 += {bk4}u) {{"));
        w.line("load_step(0u, k0, lid, row0, ct, g, k4_total);");
        w.line("workgroupBarrier();");
        compute(&mut w, "0u");
        w.line("workgroupBarrier();");
        w.line("}");
    }
    w.line("if (!live) {");
    w.line("return;");
    w.line("}");
    w.line("let has_bias = p.has_bias != 0u;");
    for n in 0..rn4 {
        w.line(format!("let cu{n} = ct * {bn4}u + lid3.x + {}u;", wx * n));
        w.line(format!("let col{n} = g * p.fg4 + min(cu{n}, p.fg4 - 1u);"));
        w.line(format!(
            "let bias{n} = select(vec4<f32>(0.0), LD4(bias, col{n}), has_bias);"
        ));
    }
    for r in 0..c.rm {
        w.line(format!("let m{r} = row0 + lid3.y + {}u;", wy * r));
        for n in 0..rn4 {
            w.line(format!(
                "if (m{r} < p.m && cu{n} < p.fg4) {{ store4(m{r}, col{n}, activate4(add_bias4(acc{}, bias{n}), p.activation)); }}",
                r * rn4 + n
            ));
        }
    }
    w.line("}");
    w.finish()
}
