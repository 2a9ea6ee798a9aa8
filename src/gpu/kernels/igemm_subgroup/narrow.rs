//! The WGSL of the narrow subgroup GEMM, for groups of at most 16 filters (ResNeXt's 4 per group,
//! a 16-filter layer on an RGB image), where the wide kernel would leave most of its 8 lanes
//! computing copies of one filter column. Here the 8 lanes of a subgroup own different output
//! pixels and every filter of the group: lane ℓ keeps `l` pixels (`row0 + ℓ + 8j`) × `t` vec4
//! columns of accumulators. What the lanes share is the weights: for each 4 channels of a tap, the
//! `4t` weight vec4s are loaded once across the lanes (one or two per lane) and handed round with
//! `subgroupBroadcast`, so each lane's loads are its own pixels' input vec4s, each feeding `4t`
//! vec4 FMAs. Channels_last, `Cin/groups` a multiple of 4, `filters/groups = 4t`.

use crate::gpu::kernels::igemm_subgroup::gather;
use crate::gpu::program::WgslWriter;

/// The kernel body for `l` pixels per lane × `t` vec4 columns (`t` = filters per group / 4, 1..=4),
/// writing a channels_first output when `nchw`.
pub fn body(l: u32, t: u32, nchw: bool) -> String {
    let rows = 8 * l;
    let weights = 4 * t; // weight vec4s per 4 channels of one tap
    let loads = weights.div_ceil(8);
    let mut w = WgslWriter::new();
    gather::header(&mut w, nchw, false);
    w.line("let g = tile % p.groups;");
    w.line("let col0 = g * p.fg4;");
    w.line(format!("let row0 = (tile / p.groups) * {rows}u;"));
    gather::pixel_coords(&mut w, l);
    // Weight vec4 number w = q·t + c is channel q (of the 4) for column c: lane ℓ loads numbers
    // ℓ + 8i (clamped to the last), at offset q·f4 + c from the group's first column.
    for i in 0..loads {
        w.line(format!("let wi{i} = min(lane + {}u, {}u);", 8 * i, weights - 1));
        w.line(format!("let woff{i} = (wi{i} / {t}u) * p.f4 + col0 + wi{i} % {t}u;"));
    }
    for j in 0..l {
        for c in 0..t {
            w.line(format!("var acc{j}_{c} = vec4<f32>(0.0);"));
        }
    }
    gather::tap_loops(&mut w, l);
    w.line("let krow = (ky * p.kernel_w + kx) * p.cin4 * 4u;");
    w.line("for (var c4 = 0u; c4 < p.cin4; c4++) {");
    w.line("let kr = (krow + 4u * c4) * p.f4;");
    for i in 0..loads {
        w.line(format!("let wv{i} = LD4(weights, kr + woff{i});"));
    }
    for q in 0..4 {
        for c in 0..t {
            let n = q * t + c;
            w.line(format!("let b{c}_{q} = subgroupBroadcast(wv{}, {}u);", n / 8, n % 8));
        }
    }
    for j in 0..l {
        w.line(format!(
            "let a{j} = select(vec4<f32>(0.0), LD4(input, base{j} + c4), ok{j});"
        ));
        for c in 0..t {
            w.line(format!(
                "acc{j}_{c} += b{c}_0 * a{j}.x + b{c}_1 * a{j}.y + b{c}_2 * a{j}.z + b{c}_3 * a{j}.w;"
            ));
        }
    }
    w.line("}").line("}").line("}");
    // Epilogue: stores of acc + bias, then (a uniform branch) the activation applied in place.
    w.line("let has_bias = p.has_bias != 0u;");
    for c in 0..t {
        w.line(format!(
            "let bias{c} = select(vec4<f32>(0.0), LD4(bias, col0 + {c}u), has_bias);"
        ));
    }
    for j in 0..l {
        w.line(format!("if (live && row0 + lane + {}u < p.m) {{", 8 * j));
        for c in 0..t {
            w.line(format!("store4(m{j}, col0 + {c}u, add_bias4(acc{j}_{c}, bias{c}));"));
        }
        w.line("}");
    }
    w.line("if (p.activation != 0u && live) {");
    w.line(format!("for (var j = 0u; j < {l}u; j++) {{"));
    w.line("let m = row0 + lane + 8u * j;");
    w.line("if (m < p.m) {");
    w.line(format!("for (var c = 0u; c < {t}u; c++) {{"));
    w.lines(
        "store4(m, col0 + c, activate4(load4(m, col0 + c), p.activation));
        }
        }
        }
        }
        }",
    );
    w.finish()
}
