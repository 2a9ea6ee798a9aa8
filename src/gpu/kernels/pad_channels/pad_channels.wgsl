// Pads channels_last pixels of `in_c` channels to `c4` vec4s (zeros after the last channel), so that
// layers with few input channels (RGB stems) can run the vec4 implicit GEMM.
// Prepended with the shared WGSL (see program/wgsl.rs).


// The channel-padding pass: `pixels` pixels of `in_c` channels become `c4` vec4s each.
// Kept in sync with `PadUniform` in src/gpu/kernels/pad_channels/mod.rs.
struct PadParams {
    pixels: u32, in_c: u32, c4: u32, _pad: u32,
}

const WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<uniform> q: PadParams;
@group(0) @binding(1) var<storage, read> src: array<Elem>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

fn channel(pixel: u32, c: u32) -> f32 {
    return select(0.0, src[min(pixel * q.in_c + c, pixel * q.in_c + q.in_c - 1u)], c < q.in_c);
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (idx >= q.pixels * q.c4) {
        return;
    }
    let pixel = idx / q.c4;
    let c = (idx % q.c4) * 4u;
    dst[idx] = vec4<f32>(channel(pixel, c), channel(pixel, c + 1u), channel(pixel, c + 2u), channel(pixel, c + 3u));
}
