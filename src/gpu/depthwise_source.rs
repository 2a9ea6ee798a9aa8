//! The WGSL of the tiled depthwise kernel, generated for one kernel size, stride and dilation.
//! Each invocation computes 4 channels (a vec4) × a `TILE_Y` × `TILE_X` block of outputs. The
//! block's input window is walked one row at a time, each input vec4 loaded once and used by
//! every output and tap that reads it (for 3x3 stride 1 on a 4x8 block: 60 loads for 288 vec4
//! FMAs, where one load per tap would take 288). Storage loads are the cost on software adapters
//! (a per-lane loop each on llvmpipe), so this is what the kernel is for. Channels_last, one filter
//! per channel, channels a multiple of 4. Uses `ConvParams` (`x_tiles` = ceil(out_w / TILE_X),
//! `total` = batch · ceil(out_h / TILE_Y) · x_tiles · channels / 4).

use std::collections::BTreeSet;
use std::fmt::Write;

/// Output rows per invocation.
pub const TILE_Y: u32 = 4;
/// Output columns per invocation.
pub const TILE_X: u32 = 8;

/// The geometry the kernel is generated for: kernel size, strides, dilations (rows, columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Taps {
    /// Kernel rows and columns.
    pub kernel: [u32; 2],
    /// Strides.
    pub strides: [u32; 2],
    /// Dilations.
    pub dilation: [u32; 2],
}

impl Taps {
    /// Input rows and columns a block's window spans.
    pub fn window(&self) -> [u32; 2] {
        [0, 1].map(|a| {
            let tile = if a == 0 { TILE_Y } else { TILE_X };
            (tile - 1) * self.strides[a] + (self.kernel[a] - 1) * self.dilation[a] + 1
        })
    }

    /// True when the unrolled kernel stays a reasonable size (compile time, registers).
    pub fn fits(&self) -> bool {
        let [h, w] = self.window();
        self.kernel[0] * self.kernel[1] <= 49 && h <= 24 && w <= 24
    }
}

/// The depthwise kernel body for `t`.
pub fn body(t: Taps) -> String {
    generate(t, false)
}

/// The body of the same blocked kernel for grouped convolutions with 4 filters per group and
/// channels per group a multiple of 4 (ResNeXt's 32 groups of 4): each lane owns one group, one
/// output vec4 (its 4 filters) per pixel, and a mat4 × vec4 per tap and 4 channels. Lanes =
/// `groups`; the window is walked once per 4 channels of the group.
pub fn grouped_body(t: Taps) -> String {
    generate(t, true)
}

fn generate(t: Taps, grouped: bool) -> String {
    let [kh, kw] = t.kernel;
    let [sh, sw] = t.strides;
    let [dh, dw] = t.dilation;
    let mut s = String::new();
    let _ = write!(
        s,
        "const WORKGROUP: u32 = 64u;\n\
         @group(0) @binding(0) var<uniform> p: ConvParams;\n\
         @group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;\n\
         @group(0) @binding(2) var<storage, read> weights: array<vec4<f32>>;\n\
         @group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;\n\
         @group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;\n\n\
         @compute @workgroup_size(WORKGROUP)\n\
         fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,\n\
         \x20       @builtin(local_invocation_index) lid: u32) {{\n\
         \x20   let idx = folded_index(wg, groups, lid, WORKGROUP);\n\
         \x20   if (idx >= p.total) {{ return; }}\n\
         \x20   // Channel vec4s vary fastest: neighbouring lanes read neighbouring memory.\n\
         \x20   let c4n = {lanes};\n\
         \x20   let c4 = idx % c4n;\n\
         \x20   var rest = idx / c4n;\n\
         \x20   let ox0 = (rest % p.x_tiles) * {TILE_X}u;\n\
         \x20   rest = rest / p.x_tiles;\n\
         \x20   let y_tiles = (p.out_h + {ty1}u) / {TILE_Y}u;\n\
         \x20   let oy0 = (rest % y_tiles) * {TILE_Y}u;\n\
         \x20   let n = rest / y_tiles;\n\
         \x20   let iy0 = i32(oy0 * {sh}u) + p.row_origin;\n\
         \x20   let ix0 = i32(ox0 * {sw}u) + p.col_origin;\n",
        ty1 = TILE_Y - 1,
        lanes = if grouped { "p.groups" } else { "p.in_c / 4u" },
    );
    if !grouped {
        for ky in 0..kh {
            for kx in 0..kw {
                let _ = writeln!(
                    s,
                    "    let w{ky}_{kx} = weights[{tap}u * c4n + c4];",
                    tap = ky * kw + kx
                );
            }
        }
    }
    let rows: BTreeSet<u32> = (0..TILE_Y)
        .flat_map(|ty| (0..kh).map(move |ky| ty * sh + ky * dh))
        .collect();
    let cols: BTreeSet<u32> = (0..TILE_X)
        .flat_map(|tx| (0..kw).map(move |kx| tx * sw + kx * dw))
        .collect();
    for c in &cols {
        let _ = writeln!(s, "    let okc{c} = ix0 + {c} >= 0 && ix0 + {c} < i32(p.in_w);");
    }
    for ty in 0..TILE_Y {
        for tx in 0..TILE_X {
            let _ = writeln!(s, "    var acc{ty}_{tx} = vec4<f32>(0.0);");
        }
    }
    if grouped {
        // Channel vec4 `ci` of group `c4`: input at pixel · in_c/4 + c4 · cin4 + ci; the 4 weight
        // vec4s of a tap at (tap · cin_g + 4ci + q) · f/4 + c4 (HWIO, 4 filters per group).
        s.push_str(
            "    let cin4 = p.cin_g / 4u;\n    let in_c4 = p.in_c / 4u;\n    let f4 = p.filters / 4u;\n\
             \x20   for (var ci = 0u; ci < cin4; ci++) {\n",
        );
        for ky in 0..kh {
            for kx in 0..kw {
                for q in 0..4 {
                    let _ = writeln!(
                        s,
                        "    let w{ky}_{kx}_{q} = weights[({tap}u * p.cin_g + 4u * ci + {q}u) * f4 + c4];",
                        tap = ky * kw + kx
                    );
                }
            }
        }
    }
    let (stride, chan) = if grouped {
        ("in_c4", "c4 * cin4 + ci")
    } else {
        ("c4n", "c4")
    };
    for r in &rows {
        let _ = writeln!(
            s,
            "    {{\n        let iy = iy0 + {r};\n        let okr = iy >= 0 && iy < i32(p.in_h);\n\
             \x20       let rb = (n * p.in_h + u32(max(iy, 0))) * p.in_w;"
        );
        for c in &cols {
            let _ = writeln!(
                s,
                "        let ok{c} = okr && okc{c};\n\
                 \x20       let v{c} = select(vec4<f32>(0.0), input[select(0u, (rb + u32(ix0 + {c})) * {stride} + {chan}, ok{c})], ok{c});"
            );
        }
        for ty in 0..TILE_Y {
            for ky in 0..kh {
                if ty * sh + ky * dh != *r {
                    continue;
                }
                for tx in 0..TILE_X {
                    for kx in 0..kw {
                        let c = tx * sw + kx * dw;
                        let _ = if grouped {
                            writeln!(
                                s,
                                "        acc{ty}_{tx} += w{ky}_{kx}_0 * v{c}.x + w{ky}_{kx}_1 * v{c}.y + w{ky}_{kx}_2 * v{c}.z + w{ky}_{kx}_3 * v{c}.w;"
                            )
                        } else {
                            writeln!(s, "        acc{ty}_{tx} += v{c} * w{ky}_{kx};")
                        };
                    }
                }
            }
        }
        s.push_str("    }\n");
    }
    if grouped {
        s.push_str("    }\n");
    }
    s.push_str("    let b = select(vec4<f32>(0.0), bias[c4], p.has_bias != 0u);\n");
    for ty in 0..TILE_Y {
        let _ = writeln!(
            s,
            "    if (oy0 + {ty}u < p.out_h) {{\n        let row = (n * p.out_h + oy0 + {ty}u) * p.out_w + ox0;"
        );
        for tx in 0..TILE_X {
            let _ = writeln!(
                s,
                "        if (ox0 + {tx}u < p.out_w) {{ output[(row + {tx}u) * c4n + c4] = acc{ty}_{tx} + b; }}"
            );
        }
        s.push_str("    }\n");
    }
    // The activation in place, in one loop: inlined per accumulator it multiplies compile time.
    let _ = write!(
        s,
        "    if (p.activation != 0u) {{\n\
         \x20       for (var ty = 0u; ty < {TILE_Y}u; ty++) {{\n\
         \x20           for (var tx = 0u; tx < {TILE_X}u; tx++) {{\n\
         \x20               if (oy0 + ty < p.out_h && ox0 + tx < p.out_w) {{\n\
         \x20                   let at = ((n * p.out_h + oy0 + ty) * p.out_w + ox0 + tx) * c4n + c4;\n\
         \x20                   output[at] = activate4(output[at], p.activation);\n\
         \x20               }}\n            }}\n        }}\n    }}\n}}\n"
    );
    s
}
