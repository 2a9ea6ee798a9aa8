//! The WGSL of the planes depthwise kernel, generated for one kernel size, stride and dilation
//! ([`Taps`]). Each invocation computes one output channel × a [`TILE_Y`] × [`TILE_X`] block of its
//! plane. Each row of the block's input window is read as the aligned vec4s that cover it,
//! whatever the width, and its values are picked out by the row's offset within the first vec4
//! ([`Shift`]: fixed when compiling where rows start on vec4s, else three selects a value): for
//! 3x3 stride 1 that is 36 vec4 loads for 64 outputs, where a load per value would take 108 and
//! the transpose into channel vec4s costs a pass. The block is written as vec4s along its rows
//! where the output's rows hold whole vec4s, else a value at a time.

use std::collections::BTreeSet;

use crate::gpu::kernels::depthwise::blocked::Taps;

/// Output rows per invocation.
pub const TILE_Y: u32 = 4;

/// Output columns per invocation: 16 measured faster than 8 (MobileNetV2's block_2_depthwise
/// 2.5 vs 3.0-3.5 ms), as fast as 8 rows x 16 and compiling in a third of the time.
pub const TILE_X: u32 = 16;

/// True when the unrolled kernel for `t` stays a reasonable size (compile time, registers).
pub fn fits(t: &Taps) -> bool {
    let [kh, kw] = t.kernel;
    let rows = (TILE_Y - 1) * t.strides[0] + (kh - 1) * t.dilation[0] + 1;
    let cols = (TILE_X - 1) * t.strides[1] + (kw - 1) * t.dilation[1] + 1;
    kh * kw <= 49 && rows <= 24 && cols <= 40
}
use crate::gpu::kernels::parts::{self, XYZW};
use crate::gpu::program::WgslWriter;

/// Where a window row starts within its first vec4: known when compiling where the rows and
/// planes hold whole vec4s (then it is the left padding's offset for every row), else read per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// Always this offset (0-3).
    Fixed(u32),
    /// Computed per row.
    PerRow,
}

/// The body for `t` with row offsets `shift`, writing vec4s along the rows when `rows4`.
pub fn body(t: Taps, shift: Shift, rows4: bool) -> String {
    let [kh, kw] = t.kernel;
    let [sh, sw] = t.strides;
    let [dh, dw] = t.dilation;
    let mut w = WgslWriter::new();
    parts::conv_bindings(&mut w, "ConvParams");
    parts::blocked_entry(&mut w);
    w.lines(
        "// Column blocks vary fastest: neighbouring invocations read neighbouring memory.
        var rest = idx / p.x_tiles;",
    );
    w.line(format!("let ox0 = (idx % p.x_tiles) * {TILE_X}u;"));
    w.line(format!("let y_tiles = (p.out_h + {}u) / {TILE_Y}u;", TILE_Y - 1));
    w.line(format!("let oy0 = (rest % y_tiles) * {TILE_Y}u;"));
    w.lines(
        "rest = rest / y_tiles;
        let f = rest % p.filters;
        let n = rest / p.filters;
        // Filter f reads channel f / multiplier (groups = channels, one channel per group).
        let plane = (n * p.in_c + f / p.f_g) * p.in_h * p.in_w;
        let last4 = i32(arrayLength(&input)) - 1;",
    );
    w.line(format!("let iy0 = i32(oy0 * {sh}u) + p.row_origin;"));
    w.line(format!("let ix0 = i32(ox0 * {sw}u) + p.col_origin;"));
    for ky in 0..kh {
        for kx in 0..kw {
            w.line(format!(
                "let w{ky}_{kx} = LDL(weights, {}u * p.filters + f);",
                ky * kw + kx
            ));
        }
    }
    let rows: BTreeSet<u32> = (0..TILE_Y)
        .flat_map(|ty| (0..kh).map(move |ky| ty * sh + ky * dh))
        .collect();
    let cols: BTreeSet<u32> = (0..TILE_X)
        .flat_map(|tx| (0..kw).map(move |kx| tx * sw + kx * dw))
        .collect();
    let span = cols.iter().max().map_or(0, |c| c + 1);
    // Values span..span+3 of the covering vec4s: the shift moves the window by up to 3.
    let vec4s = match shift {
        Shift::Fixed(k) => (span + k).div_ceil(4),
        Shift::PerRow => (span + 3).div_ceil(4),
    };
    for c in &cols {
        w.line(format!("let okc{c} = ix0 + {c} >= 0 && ix0 + {c} < i32(p.in_w);"));
    }
    for ty in 0..TILE_Y {
        for tx in 0..TILE_X {
            w.line(format!("var acc{ty}_{tx} = 0.0;"));
        }
    }
    for r in &rows {
        w.line("{");
        w.line(format!("let iy = iy0 + {r};"));
        w.line("let okr = iy >= 0 && iy < i32(p.in_h);");
        // The row's first value (possibly left of the row, or before the buffer: padding) as a
        // vec4 index and an offset: a floor division, in u32 (a binding may hold 2^31 values),
        // the window never starting 1024 values left of its row.
        w.line("let e = plane + u32(max(iy, 0)) * p.in_w + u32(ix0 + 1024);");
        w.line("let first4 = i32(e / 4u) - 256;");
        if shift == Shift::PerRow {
            w.line("let shift = e % 4u;");
        }
        for j in 0..vec4s {
            w.line(format!("let q{j} = LD4(input, u32(clamp(first4 + {j}, 0, last4)));"));
        }
        let flat = |i: u32| format!("q{}.{}", i / 4, XYZW[(i % 4) as usize]);
        for c in &cols {
            let value = match shift {
                Shift::Fixed(k) => flat(c + k),
                Shift::PerRow => format!(
                    "select(select(select({}, {}, shift == 1u), {}, shift == 2u), {}, shift == 3u)",
                    flat(*c),
                    flat(c + 1),
                    flat(c + 2),
                    flat(c + 3)
                ),
            };
            w.line(format!("let v{c} = select(0.0, {value}, okr && okc{c});"));
        }
        for ty in 0..TILE_Y {
            for ky in (0..kh).filter(|ky| ty * sh + ky * dh == *r) {
                for tx in 0..TILE_X {
                    for kx in 0..kw {
                        w.line(format!("acc{ty}_{tx} += v{} * w{ky}_{kx};", tx * sw + kx * dw));
                    }
                }
            }
        }
        w.line("}");
    }
    write_block(&mut w, rows4);
    w.finish()
}

/// The write step: bias added, the block's rows as vec4s (`rows4`: each row of the output holds
/// whole vec4s and `ox0` is a multiple of `TILE_X`, so a vec4 is inside the row or past its end)
/// or a value at a time; then the activation in place, in one loop (inlined per accumulator it
/// multiplies compile time).
fn write_block(w: &mut WgslWriter, rows4: bool) {
    w.lines(
        "let b = select(0.0, LDL(bias, f), p.has_bias != 0u);
        let out_plane = (n * p.filters + f) * p.out_h * p.out_w;",
    );
    for ty in 0..TILE_Y {
        w.line(format!("if (oy0 + {ty}u < p.out_h) {{"));
        w.line(format!("let at = out_plane + (oy0 + {ty}u) * p.out_w + ox0;"));
        if rows4 {
            for v in 0..TILE_X / 4 {
                let x = 4 * v;
                w.line(format!(
                    "if (ox0 + {x}u < p.out_w) {{ ST4(output, at / 4u + {v}u, add_bias4(vec4<f32>(acc{ty}_{}, acc{ty}_{}, acc{ty}_{}, acc{ty}_{}), vec4<f32>(b))); }}",
                    x,
                    x + 1,
                    x + 2,
                    x + 3
                ));
            }
        } else {
            for tx in 0..TILE_X {
                w.line(format!(
                    "if (ox0 + {tx}u < p.out_w) {{ STL(output, at + {tx}u, add_bias(acc{ty}_{tx}, b)); }}"
                ));
            }
        }
        w.line("}");
    }
    let step = if rows4 { 4 } else { 1 };
    w.line("if p.activation != 0u {");
    w.line(format!("for (var ty = 0u; ty < {TILE_Y}u; ty++) {{"));
    w.line(format!("for (var x = 0u; x < {TILE_X}u; x += {step}u) {{"));
    w.line("if (oy0 + ty < p.out_h && ox0 + x < p.out_w) {");
    w.line("let e = out_plane + (oy0 + ty) * p.out_w + ox0 + x;");
    w.line(if rows4 {
        "ST4(output, e / 4u, activate4(LD4(output, e / 4u), p.activation));"
    } else {
        "STL(output, e, activate(LDL(output, e), p.activation));"
    });
    w.line("}").line("}").line("}").line("}").line("}");
}
