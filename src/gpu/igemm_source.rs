//! The WGSL of the implicit-GEMM kernel shaped for software adapters (lavapipe): generated, because
//! its register tile is fully unrolled. One subgroup of 8 lanes (the workgroup) owns `R` output pixels
//! × `8·4T` filters of one group. Each lane loads the input vec4s (4 channels) of `R/8` pixels and
//! shares them with `subgroupBroadcast`; each lane keeps `R × T` vec4 accumulators and updates them
//! once per 4 channels (a mat4 × vec4), so every loaded float feeds many FLOPs. Channels_last only,
//! with `Cin/groups` and `filters/groups` multiples of 4. Bias and activation are fused in the write.
//! See `../shared/bench/results/wgsl_gemm_ceiling.md` for why this shape wins on llvmpipe.

use std::fmt::Write;

/// The bindings, entry point and tile index shared by the subgroup GEMMs (one 8-lane workgroup
/// per tile; `live` is false for the surplus workgroups of a folded dispatch).
pub(crate) const HEADER: &str = "@group(0) @binding(0) var<uniform> p: IgemmParams;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
    // Dispatches beyond the per-dimension limit are folded into y. Surplus workgroups redo the
    // last tile without storing: an early return would make every later subgroup op divergent.
    let folded = wg.y * nwg.x + wg.x;
    let live = folded < p.tiles;
    let tile = min(folded, p.tiles - 1u);
";

/// The kernel body for a tile of `r` rows (a multiple of 8) × `t` vec4 columns per lane.
pub fn body(r: u32, t: u32) -> String {
    let mut s = String::new();
    let rows_per_lane = r / 8;
    s.push_str(HEADER);
    s.push_str(
        "    let ct = tile % p.col_tiles;\n\
         \x20   let rest = tile / p.col_tiles;\n\
         \x20   let g = rest % p.groups;\n",
    );
    let _ = writeln!(s, "    let row0 = (rest / p.groups) * {r}u;");
    pixel_coords(&mut s, rows_per_lane);
    for tt in 0..t {
        let _ = write!(
            s,
            "    let cu{tt} = ct * {w}u + lane + {o}u;\n\
             \x20   let col{tt} = g * p.fg4 + min(cu{tt}, p.fg4 - 1u);\n",
            w = 8 * t,
            o = 8 * tt
        );
    }
    for i in 0..r {
        for tt in 0..t {
            let _ = writeln!(s, "    var acc{i}_{tt} = vec4<f32>(0.0);");
        }
    }
    tap_loops(&mut s, rows_per_lane);
    s.push_str(
        "            let krow = (ky * p.kernel_w + kx) * p.cin4 * 4u;\n\
         \x20           for (var c4 = 0u; c4 < p.cin4; c4++) {\n",
    );
    for j in 0..rows_per_lane {
        let _ = writeln!(
            s,
            "                let av{j} = select(vec4<f32>(0.0), input[base{j} + c4], ok{j});"
        );
    }
    s.push_str("                let kr = (krow + 4u * c4) * p.f4;\n");
    for tt in 0..t {
        for q in 0..4 {
            let _ = writeln!(
                s,
                "                let b{tt}_{q} = weights[kr + {q}u * p.f4 + col{tt}];"
            );
        }
    }
    for i in 0..r {
        let _ = writeln!(
            s,
            "                {{\n                    let a = subgroupBroadcast(av{}, {}u);",
            i / 8,
            i % 8
        );
        for tt in 0..t {
            let _ = writeln!(
                s,
                "                    acc{i}_{tt} += b{tt}_0 * a.x + b{tt}_1 * a.y + b{tt}_2 * a.z + b{tt}_3 * a.w;"
            );
        }
        s.push_str("                }\n");
    }
    s.push_str("            }\n        }\n    }\n");
    // Epilogue: unrolled stores of acc + bias, then (for a non-linear activation, a uniform
    // branch) one loop that applies it in place to what this lane just wrote. Inlining the
    // activation per accumulator instead made llvmpipe compile 4x longer and run 10% slower.
    // One bias load per column (a storage load is a per-lane loop on llvmpipe), not one per row.
    let _ = writeln!(s, "    let has_bias = p.has_bias != 0u;");
    for tt in 0..t {
        let _ = writeln!(s, "    let bias{tt} = select(vec4<f32>(0.0), bias[col{tt}], has_bias);");
    }
    for i in 0..r {
        for tt in 0..t {
            let _ = writeln!(
                s,
                "    if (live && row0 + {i}u < p.m && cu{tt} < p.fg4) {{ output[(row0 + {i}u) * p.f4 + col{tt}] = acc{i}_{tt} + bias{tt}; }}"
            );
        }
    }
    let _ = write!(
        s,
        "    if (p.activation != 0u && live) {{\n\
         \x20       for (var i = 0u; i < {r}u; i++) {{\n\
         \x20           for (var tt = 0u; tt < {t}u; tt++) {{\n\
         \x20               let cu = ct * {w}u + lane + 8u * tt;\n\
         \x20               if (row0 + i < p.m && cu < p.fg4) {{\n\
         \x20                   let at = (row0 + i) * p.f4 + g * p.fg4 + cu;\n\
         \x20                   output[at] = activate4(output[at], p.activation);\n\
         \x20               }}\n            }}\n        }}\n    }}\n",
        w = 8 * t
    );
    s.push_str("}\n");
    s
}

/// Writes, for the `n` pixels a lane owns (`row0 + lane + 8j`, clamped to the last), their output
/// column, image row base and the input row/column read at tap (0, 0).
pub(crate) fn pixel_coords(s: &mut String, n: u32) {
    for j in 0..n {
        let _ = write!(
            s,
            "    let m{j} = min(row0 + lane + {o}u, p.m - 1u);\n\
             \x20   let ox{j} = m{j} % p.out_w;\n\
             \x20   let oyn{j} = m{j} / p.out_w;\n\
             \x20   let y0_{j} = i32((oyn{j} % p.out_h) * p.stride_h) + p.row_origin;\n\
             \x20   let x0_{j} = i32(ox{j} * p.stride_w) + p.col_origin;\n\
             \x20   let img{j} = (oyn{j} / p.out_h) * p.in_h;\n",
            o = 8 * j
        );
    }
}

/// Opens the tap loops and writes, per pixel, whether the tap reads inside the input and the index
/// of its first channel vec4 of the group (stride, dilation and padding folded into the gather).
pub(crate) fn tap_loops(s: &mut String, n: u32) {
    s.push_str(
        "    let c_off = g * p.cin4;\n\
         \x20   for (var ky = 0u; ky < p.kernel_h; ky++) {\n\
         \x20       for (var kx = 0u; kx < p.kernel_w; kx++) {\n",
    );
    for j in 0..n {
        let _ = write!(
            s,
            "            let iy{j} = y0_{j} + i32(ky * p.dil_h);\n\
             \x20           let ix{j} = x0_{j} + i32(kx * p.dil_w);\n\
             \x20           let ok{j} = iy{j} >= 0 && iy{j} < i32(p.in_h) && ix{j} >= 0 && ix{j} < i32(p.in_w);\n\
             \x20           let base{j} = select(0u, ((img{j} + u32(iy{j})) * p.in_w + u32(ix{j})) * p.in_c4 + c_off, ok{j});\n"
        );
    }
}
