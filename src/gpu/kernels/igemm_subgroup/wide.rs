//! The WGSL of the wide subgroup GEMM, generated because its register tile is fully unrolled. One
//! subgroup of 8 lanes (the workgroup) owns `r` output pixels × `8·4t` filters of one group. Each
//! lane loads the input vec4s (4 channels) of `r/8` pixels and shares them with
//! `subgroupBroadcast`; each lane keeps `r × t` vec4 accumulators and updates them once per 4
//! channels (a mat4 × vec4), so every loaded float feeds many FLOPs. This shape wins on llvmpipe,
//! where every storage load is a per-lane loop and workgroup memory costs barriers.

use crate::gpu::kernels::igemm_subgroup::gather;
use crate::gpu::kernels::parts;
use crate::gpu::program::WgslWriter;

/// The kernel body for a tile of `r` rows (a multiple of 8) × `t` vec4 columns per lane,
/// writing a channels_first output when `nchw`, reading the weights from a texture (one row per
/// HWIO row, one texel per 4 filters) when `texture_weights`.
pub fn body(r: u32, t: u32, nchw: bool, texture_weights: bool) -> String {
    let rows_per_lane = r / 8;
    let mut w = WgslWriter::new();
    gather::header(&mut w, nchw, texture_weights);
    w.lines(
        "let ct = tile % p.col_tiles;
        let rest = tile / p.col_tiles;
        let g = rest % p.groups;",
    );
    w.line(format!("let row0 = (rest / p.groups) * {r}u;"));
    gather::pixel_coords(&mut w, rows_per_lane);
    for tt in 0..t {
        w.line(format!("let cu{tt} = ct * {}u + lane + {}u;", 8 * t, 8 * tt));
        w.line(format!("let col{tt} = g * p.fg4 + min(cu{tt}, p.fg4 - 1u);"));
    }
    for i in 0..r {
        for tt in 0..t {
            w.line(format!("var acc{i}_{tt} = vec4<f32>(0.0);"));
        }
    }
    gather::tap_loops(&mut w, rows_per_lane);
    w.line("let krow = (ky * p.kernel_w + kx) * p.cin4 * 4u;");
    w.line("for (var c4 = 0u; c4 < p.cin4; c4++) {");
    for j in 0..rows_per_lane {
        w.line(format!(
            "let av{j} = select(vec4<f32>(0.0), LD4(input, base{j} + c4), ok{j});"
        ));
    }
    w.line(parts::weight_row(texture_weights, "krow + 4u * c4"));
    // Pixel i is lane i % 8's av{i / 8} (pixel_coords).
    parts::broadcast_mat4(&mut w, r, t, texture_weights, |i| (i / 8, i % 8));
    w.line("}").line("}").line("}");
    // Epilogue: unrolled stores of acc + bias, then (for a non-linear activation, a uniform
    // branch) one loop that applies it in place to what this lane just wrote. Inlining the
    // activation per accumulator instead made llvmpipe compile 4x longer and run 10% slower.
    // One bias load per column (a storage load is a per-lane loop on llvmpipe), not one per row.
    w.line("let has_bias = p.has_bias != 0u;");
    for tt in 0..t {
        w.line(format!(
            "let bias{tt} = select(vec4<f32>(0.0), LD4(bias, col{tt}), has_bias);"
        ));
    }
    for i in 0..r {
        for tt in 0..t {
            w.line(format!(
                "if (live && row0 + {i}u < p.m && cu{tt} < p.fg4) {{ store4(row0 + {i}u, col{tt}, add_bias4(acc{i}_{tt}, bias{tt})); }}"
            ));
        }
    }
    w.line("if (p.activation != 0u && live) {");
    w.line(format!("for (var i = 0u; i < {r}u; i++) {{"));
    w.line(format!("for (var tt = 0u; tt < {t}u; tt++) {{"));
    w.line(format!("let cu = ct * {}u + lane + 8u * tt;", 8 * t));
    w.lines(
        "if (row0 + i < p.m && cu < p.fg4) {
        let col = g * p.fg4 + cu;
        store4(row0 + i, col, activate4(load4(row0 + i, col), p.activation));
        }
        }
        }
        }
        }",
    );
    w.finish()
}
