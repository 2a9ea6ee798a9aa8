//! The storage accessors every program's WGSL is written in (`LD`, `ST`, `LD4`, `ST4`, `LDL`,
//! `STL`), expanded per element type when a module is assembled: plain indexing for f32 and f16,
//! bit unpacking for bf16, which WGSL lacks and which is stored as two 16-bit halves of a `u32`
//! (element `2k` in the low half, as the little-endian host bytes lie).
//!
//! - `LD(a, i)` / `ST(a, i, v)`: element `i` of a scalar array (`array<ElemR>` read, `array<ElemW>`
//!   written) as f32. A bf16 store owns only its half of the word: it clears and sets its 16 bits
//!   with two atomics, so the invocation writing the other half can run at the same time.
//! - `LD4(a, i)` / `ST4(a, i, v)`: vec4 `i` of an `array<Elem4>` as `vec4<f32>`.
//! - `LDL(a, e)` / `STL(a, e, v)`: element `e` of an `array<Elem4>`. There is no word-owning form
//!   of `STL` for bf16, so it expands to a WGSL error there: the planner never asks for it
//!   (`plan_with` keeps bf16 channels_first outputs on the unpack pass).

use crate::gpu::program::ElementType;

/// The WGSL helpers the bf16 expansions call (round to nearest even; NaN stays NaN).
pub const BF16_HELPERS: &str = "
fn bf16_bits(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    let nan = (b & 0x7fffffffu) > 0x7f800000u;
    return select((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u, (b >> 16u) | 0x40u, nan);
}
fn bf16_half(w: u32, i: u32) -> f32 {
    return bitcast<f32>(select(w << 16u, w & 0xffff0000u, (i & 1u) == 1u));
}
fn bf16_unpack4(w: vec2<u32>) -> vec4<f32> {
    return vec4<f32>(bitcast<f32>(w.x << 16u), bitcast<f32>(w.x & 0xffff0000u),
        bitcast<f32>(w.y << 16u), bitcast<f32>(w.y & 0xffff0000u));
}
fn bf16_pack4(v: vec4<f32>) -> vec2<u32> {
    return vec2<u32>(bf16_bits(v.x) | (bf16_bits(v.y) << 16u), bf16_bits(v.z) | (bf16_bits(v.w) << 16u));
}
";

const MACROS: [&str; 6] = ["LD4", "ST4", "LDL", "STL", "LD", "ST"];

/// `source` with every accessor expanded for `element`.
pub fn expand(element: ElementType, source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    let mut rest = source;
    while let Some((at, name)) = next_macro(rest) {
        out.push_str(&rest[..at]);
        let after = &rest[at + name.len() + 1..];
        let Some((args, used)) = arguments(after) else {
            // Unbalanced: leave it for naga to report.
            out.push_str(&rest[at..]);
            return out;
        };
        let args: Vec<String> = args.iter().map(|a| expand(element, a)).collect();
        out.push_str(&expansion(element, name, &args));
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// The first accessor call in `s`: its byte offset and name (an identifier followed by `(`).
fn next_macro(s: &str) -> Option<(usize, &'static str)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphanumeric() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &s[start..i];
            if i < bytes.len() && bytes[i] == b'(' {
                if let Some(name) = MACROS.iter().find(|m| **m == word) {
                    return Some((start, name));
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The comma-separated arguments of a call whose `(` was just consumed, and the bytes they took
/// with the closing `)`.
fn arguments(s: &str) -> Option<(Vec<&str>, usize)> {
    let mut depth = 0usize;
    let mut start = 0;
    let mut args = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' if depth == 0 => {
                args.push(s[start..i].trim());
                return Some((args, i + 1));
            }
            ')' | ']' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                args.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

fn expansion(element: ElementType, name: &str, a: &[String]) -> String {
    let arg = |k: usize| a.get(k).map_or("", String::as_str);
    let (arr, i, v) = (arg(0), arg(1), arg(2));
    match (element, name) {
        (ElementType::BF16, "LD") => format!("bf16_half({arr}[({i}) >> 1u], ({i}))"),
        (ElementType::BF16, "ST") => format!(
            "atomicAnd(&{arr}[({i}) >> 1u], select(0xffff0000u, 0x0000ffffu, (({i}) & 1u) == 1u)); \
             atomicOr(&{arr}[({i}) >> 1u], bf16_bits({v}) << ((({i}) & 1u) * 16u))"
        ),
        (ElementType::BF16, "LD4") => format!("bf16_unpack4({arr}[{i}])"),
        (ElementType::BF16, "ST4") => format!("{arr}[{i}] = bf16_pack4({v})"),
        (ElementType::BF16, "LDL") => format!("bf16_unpack4({arr}[({i}) / 4u])[({i}) % 4u]"),
        (ElementType::BF16, _) => "STL_has_no_bf16_form".to_string(),
        (_, "LD") => format!("f32({arr}[{i}])"),
        (_, "ST") => format!("{arr}[{i}] = Elem({v})"),
        (_, "LD4") => format!("vec4<f32>({arr}[{i}])"),
        (_, "ST4") => format!("{arr}[{i}] = Elem4({v})"),
        (_, "LDL") => format!("f32({arr}[({i}) / 4u][({i}) % 4u])"),
        (_, _) => format!("{arr}[({i}) / 4u][({i}) % 4u] = Elem({v})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_calls_and_brackets_expand() {
        let s = "ST(dst, f(i, j), LD(src, idx[k]) + 1.0);";
        assert_eq!(
            expand(ElementType::F32, s),
            "dst[f(i, j)] = Elem(f32(src[idx[k]]) + 1.0);"
        );
        let b = expand(ElementType::BF16, "let v = LD4(input, a[(b)]);");
        assert_eq!(b, "let v = bf16_unpack4(input[a[(b)]]);");
    }

    #[test]
    fn identifiers_ending_in_a_macro_name_are_kept() {
        let s = "fn LOAD(x: u32) {} let y = BLD(3); let z = LD(a, 1u);";
        assert_eq!(
            expand(ElementType::F16, s),
            "fn LOAD(x: u32) {} let y = BLD(3); let z = f32(a[1u]);"
        );
    }

    #[test]
    fn the_bf16_helpers_round_like_the_half_crate() {
        // Host mirror of `bf16_bits`, checked against half::bf16 on the edge cases.
        let bits = |v: f32| {
            let b = v.to_bits();
            if (b & 0x7fff_ffff) > 0x7f80_0000 {
                (b >> 16) | 0x40
            } else {
                (b + 0x7fff + ((b >> 16) & 1)) >> 16
            }
        };
        // Ties at 0x3f80_8000 and 0x3f81_8000 go to the even neighbour, one down and one up.
        let ties = [f32::from_bits(0x3f80_8000), f32::from_bits(0x3f81_8000)];
        for v in [1.0f32, ties[0], ties[1], -3.0e38, 3.4e38, f32::INFINITY, 1e-40, -0.0] {
            assert_eq!(bits(v) as u16, half::bf16::from_f32(v).to_bits(), "{v}");
        }
        assert!(half::bf16::from_bits(bits(f32::NAN) as u16).is_nan());
    }
}
