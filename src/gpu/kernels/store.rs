//! `store4` / `load4`, the write step shared by the vec4 kernels that can write a channels_first
//! output: filter vec4 `col` of output pixel `m` as one vec4 of a channels_last output, or as its
//! 4 values `hw` apart along the filters' planes of a channels_first one (so no unpack pass has to
//! transpose it). Chosen when generating: a runtime branch there costs llvmpipe the other side's
//! stores too. `igemm_tiled.wgsl` has the same two behind an override constant.

/// The two functions for a kernel whose `output` holds `vec4s` (a WGSL expression) filter vec4s per
/// pixel, `filters` filters in all, with `p.out_h`/`p.out_w` the chunk's output rows and width.
pub(crate) fn store_functions(nchw: bool, vec4s: &str, filters: &str) -> String {
    if !nchw {
        return format!(
            "fn store4(m: u32, col: u32, v: vec4<f32>) {{ output[m * {vec4s} + col] = Elem4(v); }}
            fn load4(m: u32, col: u32) -> vec4<f32> {{ return vec4<f32>(output[m * {vec4s} + col]); }}"
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
        output[e / 4u][e % 4u] = Elem(v.x);
        output[(e + hw) / 4u][(e + hw) % 4u] = Elem(v.y);
        output[(e + 2u * hw) / 4u][(e + 2u * hw) % 4u] = Elem(v.z);
        output[(e + 3u * hw) / 4u][(e + 3u * hw) % 4u] = Elem(v.w);
        }}
        fn load4(m: u32, col: u32) -> vec4<f32> {{
        let e = plane_at(m, col);
        let hw = p.out_h * p.out_w;
        return vec4<f32>(f32(output[e / 4u][e % 4u]), f32(output[(e + hw) / 4u][(e + hw) % 4u]),
        f32(output[(e + 2u * hw) / 4u][(e + 2u * hw) % 4u]), f32(output[(e + 3u * hw) / 4u][(e + 3u * hw) % 4u]));
        }}"
    )
}
