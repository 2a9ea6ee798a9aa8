//! The WGSL of the narrow implicit GEMM: for groups with at most 16 filters (ResNeXt's 4 per group,
//! a 16-filter layer on an RGB image), where the wide kernel (`igemm_source.rs`) would leave most of
//! its 8 lanes computing copies of one filter column. Here the 8 lanes of a subgroup own different
//! output pixels and every filter of the group: lane ℓ keeps `L` pixels (`row0 + ℓ + 8j`) × `T` vec4
//! columns of accumulators. What the lanes share is the weights: for each 4 channels of a tap, the
//! `4T` weight vec4s are loaded once across the lanes (one or two per lane) and handed round with
//! `subgroupBroadcast`, so each lane's loads are its own pixels' input vec4s, each feeding `4T` vec4
//! FMAs. Channels_last, `Cin/groups` a multiple of 4, `filters/groups = 4T`. Uses `IgemmParams`.

use std::fmt::Write;

use crate::gpu::igemm_source;

/// The kernel body for `l` pixels per lane × `t` vec4 columns (`t` = filters per group / 4, 1..=4).
pub fn body(l: u32, t: u32) -> String {
    let mut s = String::new();
    let rows = 8 * l;
    let weights = 4 * t; // weight vec4s per 4 channels of one tap
    let loads = weights.div_ceil(8);
    s.push_str(igemm_source::HEADER);
    s.push_str(
        "    let g = tile % p.groups;\n\
         \x20   let col0 = g * p.fg4;\n",
    );
    let _ = writeln!(s, "    let row0 = (tile / p.groups) * {rows}u;");
    igemm_source::pixel_coords(&mut s, l);
    // Weight vec4 number w = q·t + c is channel q (of the 4) for column c: lane ℓ loads numbers
    // ℓ + 8i (clamped to the last), at offset q·f4 + c from the group's first column.
    for i in 0..loads {
        let _ = writeln!(
            s,
            "    let wi{i} = min(lane + {o}u, {last}u);\n\
             \x20   let woff{i} = (wi{i} / {t}u) * p.f4 + col0 + wi{i} % {t}u;",
            o = 8 * i,
            last = weights - 1
        );
    }
    for j in 0..l {
        for c in 0..t {
            let _ = writeln!(s, "    var acc{j}_{c} = vec4<f32>(0.0);");
        }
    }
    igemm_source::tap_loops(&mut s, l);
    s.push_str(
        "            let krow = (ky * p.kernel_w + kx) * p.cin4 * 4u;\n\
         \x20           for (var c4 = 0u; c4 < p.cin4; c4++) {\n\
         \x20               let kr = (krow + 4u * c4) * p.f4;\n",
    );
    for i in 0..loads {
        let _ = writeln!(s, "                let wv{i} = weights[kr + woff{i}];");
    }
    for q in 0..4 {
        for c in 0..t {
            let w = q * t + c;
            let _ = writeln!(
                s,
                "                let b{c}_{q} = subgroupBroadcast(wv{}, {}u);",
                w / 8,
                w % 8
            );
        }
    }
    for j in 0..l {
        let _ = writeln!(
            s,
            "                let a{j} = select(vec4<f32>(0.0), input[base{j} + c4], ok{j});"
        );
        for c in 0..t {
            let _ = writeln!(
                s,
                "                acc{j}_{c} += b{c}_0 * a{j}.x + b{c}_1 * a{j}.y + b{c}_2 * a{j}.z + b{c}_3 * a{j}.w;"
            );
        }
    }
    s.push_str("            }\n        }\n    }\n");
    // Epilogue: stores of acc + bias, then (a uniform branch) the activation applied in place.
    let _ = writeln!(s, "    let has_bias = p.has_bias != 0u;");
    for c in 0..t {
        let _ = writeln!(
            s,
            "    let bias{c} = select(vec4<f32>(0.0), bias[col0 + {c}u], has_bias);"
        );
    }
    for j in 0..l {
        let _ = writeln!(s, "    if (live && row0 + lane + {o}u < p.m) {{", o = 8 * j);
        for c in 0..t {
            let _ = writeln!(s, "        output[m{j} * p.f4 + col0 + {c}u] = acc{j}_{c} + bias{c};");
        }
        s.push_str("    }\n");
    }
    let _ = write!(
        s,
        "    if (p.activation != 0u && live) {{\n\
         \x20       for (var j = 0u; j < {l}u; j++) {{\n\
         \x20           let m = row0 + lane + 8u * j;\n\
         \x20           if (m < p.m) {{\n\
         \x20               for (var c = 0u; c < {t}u; c++) {{\n\
         \x20                   let at = m * p.f4 + col0 + c;\n\
         \x20                   output[at] = activate4(output[at], p.activation);\n\
         \x20               }}\n            }}\n        }}\n    }}\n"
    );
    s.push_str("}\n");
    s
}
