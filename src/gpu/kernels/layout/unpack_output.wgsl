// Unpacks a vec4 kernel's channels_last output (`fp` packed filters per pixel, each group's
// filters padded to `fgp`) into the layer's layout (channels_last or channels_first, `filters`
// filters), dropping the padding. Prepended with the shared WGSL (see program/wgsl.rs).
//
// Two paths. `fast` (channels_first, `hw` a multiple of 4, each 4 output filters 4 consecutive
// packed ones): one invocation transposes 4 pixels x 4 filters with 4 vec4 loads and up to 4 vec4
// stores along the filters' planes. Otherwise one invocation writes one output value, in output
// order, so the writes are contiguous in either layout.

// Kept in sync with `UnpackUniform` in src/gpu/kernels/layout/mod.rs.
struct UnpackParams {
    pixels: u32, filters: u32, fp: u32, hw: u32,
    channels_first: u32, f_g: u32, fgp: u32, total: u32,
    fast: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

const WORKGROUP: u32 = 256u; // PASS_WORKGROUP in mod.rs

@group(0) @binding(0) var<uniform> q: UnpackParams;
@group(0) @binding(1) var<storage, read> src: array<Elem4>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

fn packed(f: u32) -> u32 {
    return (f / q.f_g) * q.fgp + f % q.f_g;
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (q.fast != 0u) {
        let f4 = (q.filters + 3u) / 4u;
        if (idx >= q.pixels / 4u * f4) {
            return;
        }
        let p0 = (idx / f4) * 4u;
        let f0 = (idx % f4) * 4u;
        let at = packed(f0) / 4u;
        let v0 = vec4<f32>(src[p0 * q.fp / 4u + at]);
        let v1 = vec4<f32>(src[(p0 + 1u) * q.fp / 4u + at]);
        let v2 = vec4<f32>(src[(p0 + 2u) * q.fp / 4u + at]);
        let v3 = vec4<f32>(src[(p0 + 3u) * q.fp / 4u + at]);
        let base = (p0 / q.hw * q.filters + f0) * q.hw + p0 % q.hw;
        dst[base / 4u] = Elem4(vec4<f32>(v0.x, v1.x, v2.x, v3.x));
        if (f0 + 1u < q.filters) { dst[(base + q.hw) / 4u] = Elem4(vec4<f32>(v0.y, v1.y, v2.y, v3.y)); }
        if (f0 + 2u < q.filters) { dst[(base + 2u * q.hw) / 4u] = Elem4(vec4<f32>(v0.z, v1.z, v2.z, v3.z)); }
        if (f0 + 3u < q.filters) { dst[(base + 3u * q.hw) / 4u] = Elem4(vec4<f32>(v0.w, v1.w, v2.w, v3.w)); }
        return;
    }
    if (idx >= q.total) {
        return;
    }
    var pixel: u32;
    var f: u32;
    if (q.channels_first != 0u) {
        let plane = q.filters * q.hw;
        let rest = idx % plane;
        pixel = (idx / plane) * q.hw + rest % q.hw;
        f = rest / q.hw;
    } else {
        pixel = idx / q.filters;
        f = idx % q.filters;
    }
    let at = pixel * q.fp + packed(f);
    dst[idx / 4u][idx % 4u] = src[at / 4u][at % 4u];
}
