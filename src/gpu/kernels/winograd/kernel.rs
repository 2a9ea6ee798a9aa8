//! The WGSL of the fused Winograd F(2x2,3x3) kernel, generated because its registers are fully
//! unrolled. One subgroup of 8 lanes owns `8·j` output tiles (2x2 pixels each) × `8·4t` filters
//! of a group, like the wide implicit GEMM. Per 4 input channels each lane loads the 4x4 input
//! patches of its own `j` tiles, transforms it (`V = Bᵀ d B`, adds only) and shares the 16 vec4s with
//! `subgroupBroadcast`; every lane multiplies them with the pre-transformed weights
//! (`U = G g Gᵀ`, 16 positions) of its filter columns into 16 accumulators per tile and column.
//! At the end `Y = Aᵀ M A` gives the 2x2 outputs; bias and activation are fused in the write.
//! With dilation d the 2x2 outputs of a tile are d apart (so their patches share taps), and
//! tiles cover the outputs residue class by residue class.

use crate::gpu::kernels::{parts, store};
use crate::gpu::program::WgslWriter;

/// `v` transformed along one axis by `Bᵀ`: `[d0 − d2, d1 + d2, d2 − d1, d1 − d3]`.
fn bt(v: [String; 4]) -> [String; 4] {
    let [a, b, c, d] = v;
    [
        format!("({a} - {c})"),
        format!("({b} + {c})"),
        format!("({c} - {b})"),
        format!("({b} - {d})"),
    ]
}

/// The kernel body for `j` tiles and `t` vec4 filter columns per lane, writing a
/// channels_first output when `nchw`, reading U from a texture (a row per position and channel,
/// a texel per 4 filters) when `texture_weights`.
pub fn body(j: u32, t: u32, nchw: bool, texture_weights: bool) -> String {
    let tiles = 8 * j;
    let mut w = WgslWriter::new();
    if texture_weights {
        parts::conv_bindings_of(&mut w, "IgemmParams", true);
    } else {
        w.lines(
            "@group(0) @binding(0) var<uniform> p: IgemmParams;
            @group(0) @binding(1) var<storage, read> input: array<Elem4>;
            // U stays f32 whatever the storage type (WeightPrep::kernel_element).
            @group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
            @group(0) @binding(3) var<storage, read> bias: array<Elem4>;
            @group(0) @binding(4) var<storage, read_write> output: array<Elem4>;
            ",
        );
    }
    w.lines(&store::store_functions(nchw, "p.f4", "p.f4 * 4u"));
    w.lines(
        "// Tile columns (rows) of an output axis of `len` with dilation `d`: per residue class of d,
        // the class's outputs in pairs.
        fn tiles_along(len: u32, d: u32) -> u32 {
            return d * (((len + d - 1u) / d + 1u) / 2u);
        }
        // The first output of tile `i` along an axis with dilation `d` (its second is d further).
        fn tile_start(i: u32, d: u32) -> u32 {
            return i % d + 2u * d * (i / d);
        }
        @compute @workgroup_size(8)
        fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
        // Folded dispatches; surplus workgroups redo the last tile without storing.
        let folded = wg.y * nwg.x + wg.x;
        let live = folded < p.tiles;
        let wgi = min(folded, p.tiles - 1u);
        let ct = wgi % p.col_tiles;
        let rest = wgi / p.col_tiles;
        let g = rest % p.groups;
        let tx_n = tiles_along(p.out_w, p.dil_w);
        let ty_n = tiles_along(p.out_h, p.dil_h);
        let per_image = tx_n * ty_n;
        let tile_count = (p.m / (p.out_h * p.out_w)) * per_image;",
    );
    w.line(format!("let tile0 = (rest / p.groups) * {tiles}u;"));
    w.line("let c_off = g * p.cin4;");
    for k in 0..j {
        // This lane's tile k (clamped to the last) and its output origin.
        w.line(format!(
            "let my_tile{k} = min(tile0 + lane + {}u, tile_count - 1u);",
            8 * k
        ));
        w.line(format!("let in_tile{k} = my_tile{k} % per_image;"));
        w.line(format!("let oy0_{k} = tile_start(in_tile{k} / tx_n, p.dil_h);"));
        w.line(format!("let ox0_{k} = tile_start(in_tile{k} % tx_n, p.dil_w);"));
        w.line(format!("let img_row{k} = (my_tile{k} / per_image) * p.in_h;"));
        // The 16 patch positions: input row oy0 + row_origin + d·r, column ox0 + col_origin + d·c.
        for r in 0..4 {
            w.line(format!("let iy{r}_{k} = i32(oy0_{k} + {r}u * p.dil_h) + p.row_origin;"));
            w.line(format!("let ry{r}_{k} = iy{r}_{k} >= 0 && iy{r}_{k} < i32(p.in_h);"));
        }
        for c in 0..4 {
            w.line(format!("let ix{c}_{k} = i32(ox0_{k} + {c}u * p.dil_w) + p.col_origin;"));
            w.line(format!("let rx{c}_{k} = ix{c}_{k} >= 0 && ix{c}_{k} < i32(p.in_w);"));
        }
        for r in 0..4 {
            for c in 0..4 {
                w.line(format!("let ok{r}{c}_{k} = ry{r}_{k} && rx{c}_{k};"));
                w.line(format!(
                    "let base{r}{c}_{k} = select(0u, ((img_row{k} + u32(iy{r}_{k})) * p.in_w + u32(ix{c}_{k})) * p.in_c4 + c_off, ok{r}{c}_{k});"
                ));
            }
        }
    }
    for tt in 0..t {
        w.line(format!("let cu{tt} = ct * {}u + lane + {}u;", 8 * t, 8 * tt));
        w.line(format!("let col{tt} = g * p.fg4 + min(cu{tt}, p.fg4 - 1u);"));
    }
    for i in 0..tiles {
        for q in 0..16 {
            for tt in 0..t {
                w.line(format!("var acc{i}_{q}_{tt} = vec4<f32>(0.0);"));
            }
        }
    }
    w.line("let cin_g = p.cin4 * 4u;");
    w.line("for (var c4 = 0u; c4 < p.cin4; c4++) {");
    for k in 0..j {
        for r in 0..4 {
            for c in 0..4 {
                w.line(format!(
                    "let d{r}{c}_{k} = select(vec4<f32>(0.0), LD4(input, base{r}{c}_{k} + c4), ok{r}{c}_{k});"
                ));
            }
        }
        // V = Bᵀ d B: along columns of each row, then along rows of each column.
        for r in 0..4 {
            let row = bt([0, 1, 2, 3].map(|c| format!("d{r}{c}_{k}")));
            for (c, e) in row.iter().enumerate() {
                w.line(format!("let h{r}{c}_{k} = {e};"));
            }
        }
        for c in 0..4 {
            let col = bt([0, 1, 2, 3].map(|r| format!("h{r}{c}_{k}")));
            for (r, e) in col.iter().enumerate() {
                w.line(format!("let v{}_{k} = {e};", 4 * r + c));
            }
        }
    }
    // U of this lane's columns, position by position and column by column (position q,
    // channels 4·c4 .. 4·c4 + 3), each used by every tile before the next is loaded: 4 weight
    // vec4s live at a time instead of 64·t, more than llvmpipe's 32 vector registers (measured
    // 1.01-1.11x on ResNet50's and InceptionV3's Winograd layers).
    for q in 0..16 {
        if texture_weights {
            w.line(format!("let ur{q} = {q}u * cin_g + 4u * c4;"));
        } else {
            w.line(format!("let ur{q} = ({q}u * cin_g + 4u * c4) * p.f4;"));
        }
        for tt in 0..t {
            for k in 0..4 {
                w.line(if texture_weights {
                    format!("let u{q}_{tt}_{k} = textureLoad(weights, vec2<u32>(col{tt}, ur{q} + {k}u), 0);")
                } else {
                    format!("let u{q}_{tt}_{k} = weights[ur{q} + {k}u * p.f4 + col{tt}];")
                });
            }
            for i in 0..tiles {
                w.line(format!(
                    "{{ let s = subgroupBroadcast(v{q}_{}, {}u); acc{i}_{q}_{tt} += u{q}_{tt}_0 * s.x + u{q}_{tt}_1 * s.y + u{q}_{tt}_2 * s.z + u{q}_{tt}_3 * s.w; }}",
                    i / 8,
                    i % 8
                ));
            }
        }
    }
    w.line("}");
    // Epilogue: Y = Aᵀ M A per tile and column, + bias, stored where the output exists; then the
    // activation in one loop over what this lane wrote (as in the wide GEMM: inlined per output
    // it multiplies llvmpipe's compile time).
    w.line("let has_bias = p.has_bias != 0u;");
    for tt in 0..t {
        w.line(format!(
            "let bias{tt} = select(vec4<f32>(0.0), LD4(bias, col{tt}), has_bias);"
        ));
    }
    for i in 0..tiles {
        w.line("{");
        w.line(format!("let ti = tile0 + {i}u;"));
        w.lines(
            "let ti_c = min(ti, tile_count - 1u);
            let t_img = ti_c / per_image;
            let t_in = ti_c % per_image;
            let ty0 = tile_start(t_in / tx_n, p.dil_h);
            let tx0 = tile_start(t_in % tx_n, p.dil_w);
            let row_base = t_img * p.out_h;",
        );
        for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            w.line(format!(
                "let in{a}{b} = live && ti < tile_count && ty0 + {a}u * p.dil_h < p.out_h && tx0 + {b}u * p.dil_w < p.out_w;"
            ));
            w.line(format!(
                "let m{a}{b} = (row_base + ty0 + {a}u * p.dil_h) * p.out_w + tx0 + {b}u * p.dil_w;"
            ));
        }
        for tt in 0..t {
            let m = |r: usize, c: usize| format!("acc{i}_{}_{tt}", 4 * r + c);
            // Along rows of each column (Aᵀ M), then along columns (· A).
            for c in 0..4 {
                w.line(format!("let z0_{c}_{tt} = {} + {} + {};", m(0, c), m(1, c), m(2, c)));
                w.line(format!("let z1_{c}_{tt} = {} - {} - {};", m(1, c), m(2, c), m(3, c)));
            }
            w.line(format!("let ok_col{tt} = cu{tt} < p.fg4;"));
            for a in 0..2 {
                w.line(format!(
                    "if (in{a}0 && ok_col{tt}) {{ store4(m{a}0, col{tt}, add_bias4(z{a}_0_{tt} + z{a}_1_{tt} + z{a}_2_{tt}, bias{tt})); }}"
                ));
                w.line(format!(
                    "if (in{a}1 && ok_col{tt}) {{ store4(m{a}1, col{tt}, add_bias4(z{a}_1_{tt} - z{a}_2_{tt} - z{a}_3_{tt}, bias{tt})); }}"
                ));
            }
        }
        w.line("}");
    }
    w.line("if (p.activation != 0u && live) {");
    w.line(format!("for (var i = 0u; i < {tiles}u; i++) {{"));
    w.lines(
        "
        let ti = tile0 + i;
        if (ti >= tile_count) { break; }
        let t_img = ti / per_image;
        let t_in = ti % per_image;
        let ty0 = tile_start(t_in / tx_n, p.dil_h);
        let tx0 = tile_start(t_in % tx_n, p.dil_w);
        for (var corner = 0u; corner < 4u; corner++) {
        let oy = ty0 + (corner / 2u) * p.dil_h;
        let ox = tx0 + (corner % 2u) * p.dil_w;
        if (oy >= p.out_h || ox >= p.out_w) { continue; }
        let m = (t_img * p.out_h + oy) * p.out_w + ox;",
    );
    w.line(format!("for (var tt = 0u; tt < {t}u; tt++) {{"));
    w.line(format!("let cu = ct * {}u + lane + 8u * tt;", 8 * t));
    w.lines(
        "if (cu < p.fg4) {
        let col = g * p.fg4 + cu;
        store4(m, col, activate4(load4(m, col), p.activation));
        }
        }
        }
        }
        }
        }",
    );
    w.finish()
}
