//! The WGSL of the blocked kernel shared by the tiled depthwise and grouped algorithms, generated
//! for one kernel size, stride and dilation ([`Taps`]). Each invocation computes one lane (a channel
//! vec4, or a group's 4 filters) × a `TILE_Y` × `TILE_X` block of outputs. The block's input
//! window is walked one row at a time, each input vec4 loaded once and used by every output and
//! tap that reads it (for 3x3 stride 1 on a 4x8 block: 60 loads for 288 vec4 FMAs, where one load
//! per tap would take 288). Storage loads are the cost on software adapters (a per-lane loop each
//! on llvmpipe), so this is what the kernel is for. Channels_last. Uses `ConvParams` (`x_tiles` =
//! ceil(out_w / TILE_X), `total` = batch · ceil(out_h / TILE_Y) · x_tiles · lanes).

use std::collections::BTreeSet;

use crate::gpu::kernels::parts::{self, XYZW};
use crate::gpu::kernels::store;
use crate::gpu::program::{Variant, WgslWriter};

/// Output rows per invocation.
pub const TILE_Y: u32 = 4;
/// Output columns per invocation.
pub const TILE_X: u32 = 8;

/// Where the kernel writes: channels_last, or the planes of a channels_first output, one value at
/// a time or (when a plane's rows hold whole vec4s) each block row 4 values at a time, which on
/// llvmpipe (a per-lane loop per storage access) takes a quarter of the stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputLayout {
    /// Channel vec4s of each pixel.
    ChannelsLast = 0,
    /// Channels_first, a value at a time.
    PlanesScattered = 1,
    /// Channels_first, a vec4 along each row.
    PlanesRows = 2,
}

impl OutputLayout {
    /// Every layout.
    pub const ALL: [Self; 3] = [Self::ChannelsLast, Self::PlanesScattered, Self::PlanesRows];

    /// The layout of an output `out_w` wide, channels_first when `channels_first`.
    pub fn new(channels_first: bool, out_w: usize) -> Self {
        match (channels_first, out_w.is_multiple_of(4)) {
            (false, _) => Self::ChannelsLast,
            (true, false) => Self::PlanesScattered,
            (true, true) => Self::PlanesRows,
        }
    }

    /// The layout a variant's code names.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => Self::ChannelsLast,
            1 => Self::PlanesScattered,
            _ => Self::PlanesRows,
        }
    }
}

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
    /// The names of a [`Variant`]'s numbers, in order (`nchw`: the [`OutputLayout`]'s code, 0
    /// for channels_last).
    pub const PARAMS: &'static [&'static str] = &["kh", "kw", "sh", "sw", "dh", "dw", "nchw"];

    /// The taps a variant holds.
    pub fn from_variant(v: &Variant) -> Self {
        Self {
            kernel: [v.get(0), v.get(1)],
            strides: [v.get(2), v.get(3)],
            dilation: [v.get(4), v.get(5)],
        }
    }

    /// As a variant, with the output layout.
    pub fn variant(&self, layout: OutputLayout) -> Variant {
        let [kh, kw] = self.kernel;
        let [sh, sw] = self.strides;
        let [dh, dw] = self.dilation;
        Variant::of(&[kh, kw, sh, sw, dh, dw, layout as u32])
    }

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

    /// The blocked kernels' variants: the representative taps in both output layouts.
    pub fn variants() -> Vec<Variant> {
        let taps = Self::representative();
        OutputLayout::ALL
            .iter()
            .flat_map(|&layout| taps.iter().map(move |t| t.variant(layout)))
            .collect()
    }

    /// The taps every sample and tool checks (each generated body must validate).
    pub fn representative() -> Vec<Taps> {
        [
            ([1, 1], [1, 1], [1, 1]),
            ([3, 3], [1, 1], [1, 1]),
            ([3, 3], [2, 2], [1, 1]),
            ([5, 5], [1, 1], [2, 2]),
            ([7, 7], [1, 1], [1, 1]),
            ([1, 7], [1, 2], [1, 1]),
        ]
        .into_iter()
        .map(|(kernel, strides, dilation)| Taps {
            kernel,
            strides,
            dilation,
        })
        .collect()
    }
}

/// The kernel body for `t`: depthwise (a lane per channel vec4, one filter per channel), or
/// `grouped` (a lane per group of 4 filters over channels per group a multiple of 4, a mat4 ×
/// vec4 per tap, the window walked once per 4 channels of the group).
pub fn generate(t: Taps, grouped: bool, layout: OutputLayout) -> String {
    let [kh, kw] = t.kernel;
    let [sh, sw] = t.strides;
    let [dh, dw] = t.dilation;
    let mut w = WgslWriter::new();
    // A lane's channel vec4 (or its group's 4 filters) is filter vec4 `c4`.
    let nchw = layout != OutputLayout::ChannelsLast;
    w.lines(&store::store_functions(nchw, "(p.filters / 4u)", "p.filters"));
    parts::conv_bindings(&mut w, "ConvParams");
    parts::blocked_entry(&mut w);
    w.line("// Lanes vary fastest: neighbouring invocations read neighbouring memory.");
    w.line(format!(
        "let c4n = {};",
        if grouped { "p.groups" } else { "p.in_c / 4u" }
    ));
    w.lines("let c4 = idx % c4n;\nvar rest = idx / c4n;");
    w.line(format!("let ox0 = (rest % p.x_tiles) * {TILE_X}u;"));
    w.line("rest = rest / p.x_tiles;");
    w.line(format!("let y_tiles = (p.out_h + {}u) / {TILE_Y}u;", TILE_Y - 1));
    w.line(format!("let oy0 = (rest % y_tiles) * {TILE_Y}u;"));
    w.line("let n = rest / y_tiles;");
    w.line(format!("let iy0 = i32(oy0 * {sh}u) + p.row_origin;"));
    w.line(format!("let ix0 = i32(ox0 * {sw}u) + p.col_origin;"));
    if !grouped {
        for ky in 0..kh {
            for kx in 0..kw {
                w.line(format!("let w{ky}_{kx} = LD4(weights, {}u * c4n + c4);", ky * kw + kx));
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
        w.line(format!("let okc{c} = ix0 + {c} >= 0 && ix0 + {c} < i32(p.in_w);"));
    }
    for ty in 0..TILE_Y {
        for tx in 0..TILE_X {
            w.line(format!("var acc{ty}_{tx} = vec4<f32>(0.0);"));
        }
    }
    if grouped {
        // Channel vec4 `ci` of group `c4`: input at pixel · in_c/4 + c4 · cin4 + ci; the 4 weight
        // vec4s of a tap at (tap · cin_g + 4ci + q) · f/4 + c4 (HWIO, 4 filters per group).
        w.lines(
            "let cin4 = p.cin_g / 4u;
            let in_c4 = p.in_c / 4u;
            let f4 = p.filters / 4u;
            for (var ci = 0u; ci < cin4; ci++) {",
        );
        for ky in 0..kh {
            for kx in 0..kw {
                for q in 0..4 {
                    w.line(format!(
                        "let w{ky}_{kx}_{q} = LD4(weights, ({}u * p.cin_g + 4u * ci + {q}u) * f4 + c4);",
                        ky * kw + kx
                    ));
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
        w.line("{");
        w.line(format!("let iy = iy0 + {r};"));
        w.line("let okr = iy >= 0 && iy < i32(p.in_h);");
        w.line("let rb = (n * p.in_h + u32(max(iy, 0))) * p.in_w;");
        for c in &cols {
            w.line(format!("let ok{c} = okr && okc{c};"));
            w.line(format!(
                "let v{c} = select(vec4<f32>(0.0), LD4(input, select(0u, (rb + u32(ix0 + {c})) * {stride} + {chan}, ok{c})), ok{c});"
            ));
        }
        for ty in 0..TILE_Y {
            for ky in (0..kh).filter(|ky| ty * sh + ky * dh == *r) {
                for tx in 0..TILE_X {
                    for kx in 0..kw {
                        let c = tx * sw + kx * dw;
                        w.line(if grouped {
                            format!("acc{ty}_{tx} += w{ky}_{kx}_0 * v{c}.x + w{ky}_{kx}_1 * v{c}.y + w{ky}_{kx}_2 * v{c}.z + w{ky}_{kx}_3 * v{c}.w;")
                        } else {
                            format!("acc{ty}_{tx} += v{c} * w{ky}_{kx};")
                        });
                    }
                }
            }
        }
        w.line("}");
    }
    if grouped {
        w.line("}");
    }
    w.line("let b = select(vec4<f32>(0.0), LD4(bias, c4), p.has_bias != 0u);");
    if layout == OutputLayout::PlanesRows {
        write_plane_rows(&mut w);
        return w.finish();
    }
    for ty in 0..TILE_Y {
        w.line(format!("if (oy0 + {ty}u < p.out_h) {{"));
        w.line(format!("let row = (n * p.out_h + oy0 + {ty}u) * p.out_w + ox0;"));
        for tx in 0..TILE_X {
            w.line(format!(
                "if (ox0 + {tx}u < p.out_w) {{ store4(row + {tx}u, c4, add_bias4(acc{ty}_{tx}, b)); }}"
            ));
        }
        w.line("}");
    }
    // The activation in place, in one loop: inlined per accumulator it multiplies compile time.
    w.line("if p.activation != 0u {");
    w.line(format!("for (var ty = 0u; ty < {TILE_Y}u; ty++) {{"));
    w.line(format!("for (var tx = 0u; tx < {TILE_X}u; tx++) {{"));
    w.lines(
        "if (oy0 + ty < p.out_h && ox0 + tx < p.out_w) {
        let m = (n * p.out_h + oy0 + ty) * p.out_w + ox0 + tx;
        store4(m, c4, activate4(load4(m, c4), p.activation));
        }
        }
        }
        }
        }",
    );
    w.finish()
}

/// The write step of [`OutputLayout::PlanesRows`]: for each of the lane's 4 filters, each block
/// row as `TILE_X / 4` vec4s of its plane (the rows hold whole vec4s and `ox0` is a multiple of
/// `TILE_X`, so a vec4 is all inside the row or all past its end); then the activation in place.
fn write_plane_rows(w: &mut WgslWriter) {
    w.line("let hw = p.out_h * p.out_w;");
    for ty in 0..TILE_Y {
        w.line(format!("if (oy0 + {ty}u < p.out_h) {{"));
        w.line(format!("let at = (oy0 + {ty}u) * p.out_w + ox0;"));
        for (k, c) in XYZW.iter().enumerate() {
            w.line(format!(
                "let row{k} = ((n * p.filters + 4u * c4 + {k}u) * hw + at) / 4u;"
            ));
            for v in 0..TILE_X / 4 {
                let x = 4 * v;
                w.line(format!(
                    "if (ox0 + {x}u < p.out_w) {{ ST4(output, row{k} + {v}u, add_bias4(vec4<f32>(acc{ty}_{}.{c}, acc{ty}_{}.{c}, acc{ty}_{}.{c}, acc{ty}_{}.{c}), vec4<f32>(b.{c}))); }}",
                    x,
                    x + 1,
                    x + 2,
                    x + 3
                ));
            }
        }
        w.line("}");
    }
    w.line("if p.activation != 0u {");
    w.line(format!("for (var ty = 0u; ty < {TILE_Y}u; ty++) {{"));
    w.line("for (var k = 0u; k < 4u; k++) {");
    w.line(format!("for (var x = 0u; x < {TILE_X}u; x += 4u) {{"));
    w.lines(
        "if (oy0 + ty < p.out_h && ox0 + x < p.out_w) {
        let e = ((n * p.filters + 4u * c4 + k) * hw + (oy0 + ty) * p.out_w + ox0 + x) / 4u;
        ST4(output, e, activate4(LD4(output, e), p.activation));
        }
        }
        }
        }
        }
        }",
    );
}
