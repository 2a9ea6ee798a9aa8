//! `store4` / `load4`, the write step shared by the vec4 kernels that can write a channels_first
//! output: filter vec4 `col` of output pixel `m` as one vec4 of a channels_last output, or as its
//! 4 values `hw` apart along the filters' planes of a channels_first one (so no unpack pass has to
//! transpose it). Chosen when generating: a runtime branch there costs llvmpipe the other side's
//! stores too.

/// The two functions for a kernel whose `output` holds `vec4s` (a WGSL expression) filter vec4s per
/// pixel, `filters` filters in all, with `p.out_h`/`p.out_w` the chunk's output rows and width.
pub(crate) fn store_functions(nchw: bool, vec4s: &str, filters: &str) -> String {
    if !nchw {
        return format!(
            "fn store4(m: u32, col: u32, v: vec4<f32>) {{ ST4(output, m * {vec4s} + col, v); }}
            fn load4(m: u32, col: u32) -> vec4<f32> {{ return LD4(output, m * {vec4s} + col); }}"
        );
    }
    format!(
        "fn plane_at(m: u32, col: u32) -> u32 {{
        let hw = p.out_h * p.out_w;
        return ((m / hw) * {filters} + col * 4u) * hw + m % hw;
        }}
        fn store4(m: u32, col: u32, v: vec4<f32>) {{
        let e = plane_at(m, col);
        let hw = p.out_h * p.out_w;
        STL(output, e, v.x);
        STL(output, e + hw, v.y);
        STL(output, e + 2u * hw, v.z);
        STL(output, e + 3u * hw, v.w);
        }}
        fn load4(m: u32, col: u32) -> vec4<f32> {{
        let e = plane_at(m, col);
        let hw = p.out_h * p.out_w;
        return vec4<f32>(LDL(output, e), LDL(output, e + hw), LDL(output, e + 2u * hw), LDL(output, e + 3u * hw));
        }}"
    )
}
