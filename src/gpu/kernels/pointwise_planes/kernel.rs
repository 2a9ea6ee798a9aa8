//! The WGSL of the planes GEMM, generated because its register tile is fully unrolled. One
//! subgroup of 8 lanes (the workgroup) owns 64 pixels of one image's planes × `8·4t` filters.
//! Each lane loads 8 pixels × 4 channels (along the planes: vec4s when a plane holds whole vec4s,
//! else single values), regroups them into one channel vec4 per pixel and shares those with
//! `subgroupBroadcast`; each lane keeps 64 × `t` filter-vec4 accumulators (the wide GEMM's mat4 ×
//! vec4 update). A lane then holds all 64 pixels of its filters, so it writes each filter's plane
//! as vec4s along the pixels: the channels_first output needs no scattered store.

use crate::gpu::kernels::parts::{self, XYZW};
use crate::gpu::program::WgslWriter;

/// Pixels of a workgroup's tile (8 per lane).
pub const TILE_PIXELS: u32 = 64;

const LANE_PIXELS: u32 = TILE_PIXELS / 8;

/// The kernel body for `t` filter vec4 columns per lane; `vec` when every plane holds whole vec4s
/// (pixels per plane a multiple of 4), else the planes are read and written a value at a time;
/// the weights read from a texture (a row per channel, a texel per 4 filters) when
/// `texture_weights`.
pub fn body(t: u32, vec: bool, texture_weights: bool) -> String {
    let mut w = WgslWriter::new();
    parts::conv_bindings_of(&mut w, "IgemmParams", texture_weights);
    parts::subgroup_entry(&mut w);
    w.lines(
        "let hw = p.out_h * p.out_w;
        let ct = tile % p.col_tiles;
        let rest = tile / p.col_tiles;",
    );
    w.line(format!(
        "let pixel_tiles = (hw + {}u) / {TILE_PIXELS}u;",
        TILE_PIXELS - 1
    ));
    w.line(format!("let px0 = (rest % pixel_tiles) * {TILE_PIXELS}u;"));
    w.line("let n = rest / pixel_tiles;");
    w.line(format!("let lane_px = px0 + {LANE_PIXELS}u * lane;"));
    w.line("let image = n * p.in_c4 * 4u * hw;");
    for tt in 0..t {
        w.line(format!("let cu{tt} = ct * {}u + lane + {}u;", 8 * t, 8 * tt));
        w.line(format!("let col{tt} = min(cu{tt}, p.f4 - 1u);"));
    }
    for i in 0..TILE_PIXELS {
        for tt in 0..t {
            w.line(format!("var acc{i}_{tt} = vec4<f32>(0.0);"));
        }
    }
    // A pixel past the plane's end reads the plane's last value: its sums are never stored, and
    // each pixel's sums depend on its own values only, so no load needs a mask.
    if vec {
        for h in 0..LANE_PIXELS / 4 {
            w.line(format!("let e{h} = min(lane_px + {}u, hw - 4u) / 4u;", 4 * h));
        }
    } else {
        for px in 0..LANE_PIXELS {
            w.line(format!("let e{px} = min(lane_px + {px}u, hw - 1u);"));
        }
    }
    w.line("for (var c4 = 0u; c4 < p.in_c4; c4++) {");
    w.line("let plane = image + c4 * 4u * hw;");
    // v{q}_{h}: channel 4c4+q, the lane's pixels 4h..4h+3.
    for q in 0..4 {
        w.line(format!("let plane{q} = plane + {q}u * hw;"));
        for h in 0..LANE_PIXELS / 4 {
            if vec {
                w.line(format!("let v{q}_{h} = LD4(input, plane{q} / 4u + e{h});"));
            } else {
                let lanes: Vec<String> = (0..4)
                    .map(|k| format!("LDL(input, plane{q} + e{})", 4 * h + k))
                    .collect();
                w.line(format!("let v{q}_{h} = vec4<f32>({});", lanes.join(", ")));
            }
        }
    }
    for j in 0..LANE_PIXELS {
        let (h, k) = (j / 4, XYZW[(j % 4) as usize]);
        w.line(format!(
            "let av{j} = vec4<f32>(v0_{h}.{k}, v1_{h}.{k}, v2_{h}.{k}, v3_{h}.{k});"
        ));
    }
    w.line(parts::weight_row(texture_weights, "4u * c4"));
    // Pixel i is lane i / 8's av{i % 8}.
    parts::broadcast_mat4(&mut w, TILE_PIXELS, t, texture_weights, |i| {
        (i % LANE_PIXELS, i / LANE_PIXELS)
    });
    w.line("}");
    write_planes(&mut w, t, vec);
    w.finish()
}

/// The write step: each of the lane's filters' planes, 4 pixels at a time, bias added; then (a
/// uniform branch) the activation applied in place to what this lane wrote, as the wide GEMM
/// does (inlined per accumulator it compiles several times longer on llvmpipe).
fn write_planes(w: &mut WgslWriter, t: u32, vec: bool) {
    w.line("let has_bias = p.has_bias != 0u;");
    w.line("let out_image = n * p.f4 * 4u * hw;");
    for tt in 0..t {
        w.line(format!(
            "let bias{tt} = select(vec4<f32>(0.0), LD4(bias, col{tt}), has_bias);"
        ));
        w.line(format!("let live{tt} = live && cu{tt} < p.f4;"));
        for (k, c) in XYZW.iter().enumerate() {
            w.line(format!(
                "let plane{tt}_{k} = out_image + (4u * col{tt} + {k}u) * hw + px0;"
            ));
            for i4 in 0..TILE_PIXELS / 4 {
                let px = 4 * i4;
                let v = format!(
                    "add_bias4(vec4<f32>(acc{}_{tt}.{c}, acc{}_{tt}.{c}, acc{}_{tt}.{c}, acc{}_{tt}.{c}), vec4<f32>(bias{tt}.{c}))",
                    px,
                    px + 1,
                    px + 2,
                    px + 3
                );
                if vec {
                    w.line(format!(
                        "if (live{tt} && px0 + {px}u < hw) {{ ST4(output, (plane{tt}_{k} + {px}u) / 4u, {v}); }}"
                    ));
                } else {
                    w.line("{");
                    w.line(format!("let v = {v};"));
                    for (e, lane) in XYZW.iter().enumerate() {
                        w.line(format!(
                            "if (live{tt} && px0 + {}u < hw) {{ STL(output, plane{tt}_{k} + {}u, v.{lane}); }}",
                            px + e as u32,
                            px + e as u32
                        ));
                    }
                    w.line("}");
                }
            }
        }
    }
    w.line("if (p.activation != 0u) {");
    w.line(format!("for (var tt = 0u; tt < {t}u; tt++) {{"));
    w.line(format!("let cu = ct * {}u + lane + 8u * tt;", 8 * t));
    w.line("if (live && cu < p.f4) {");
    w.line("for (var k = 0u; k < 4u; k++) {");
    w.line("let plane = out_image + (4u * cu + k) * hw + px0;");
    if vec {
        w.line(format!("for (var i = 0u; i < {TILE_PIXELS}u; i += 4u) {{"));
        w.line("if (px0 + i < hw) { ST4(output, (plane + i) / 4u, activate4(LD4(output, (plane + i) / 4u), p.activation)); }");
    } else {
        w.line(format!("for (var i = 0u; i < {TILE_PIXELS}u; i++) {{"));
        w.line("if (px0 + i < hw) { STL(output, plane + i, activate(LDL(output, plane + i), p.activation)); }");
    }
    w.line("}").line("}").line("}").line("}").line("}");
    w.line("}");
}
