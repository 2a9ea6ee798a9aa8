// The unpack pass for channels_first output whose planes hold whole vec4s (`hw` a multiple of 4)
// and whose every 4 filters are 4 consecutive packed ones: one invocation transposes 4 pixels x
// 4 filters with 4 vec4 loads and up to 4 vec4 stores along the filters' planes. Same unpacking
// as `unpack_output.wgsl`. Prepended with the shared WGSL (see program/wgsl.rs).

const WORKGROUP: u32 = 256u; // PLANES_WORKGROUP in mod.rs

@group(0) @binding(0) var<uniform> q: UnpackParams;
@group(0) @binding(1) var<storage, read> src: array<Elem4>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    let f4 = (q.filters + 3u) / 4u;
    if (idx >= q.pixels / 4u * f4) {
        return;
    }
    let p0 = (idx / f4) * 4u;
    let f0 = (idx % f4) * 4u;
    let at = ((f0 / q.f_g) * q.fgp + f0 % q.f_g) / 4u;
    let v0 = LD4(src, p0 * q.fp / 4u + at);
    let v1 = LD4(src, (p0 + 1u) * q.fp / 4u + at);
    let v2 = LD4(src, (p0 + 2u) * q.fp / 4u + at);
    let v3 = LD4(src, (p0 + 3u) * q.fp / 4u + at);
    let base = (p0 / q.hw * q.filters + f0) * q.hw + p0 % q.hw;
    ST4(dst, base / 4u, vec4<f32>(v0.x, v1.x, v2.x, v3.x));
    if (f0 + 1u < q.filters) { ST4(dst, (base + q.hw) / 4u, vec4<f32>(v0.y, v1.y, v2.y, v3.y)); }
    if (f0 + 2u < q.filters) { ST4(dst, (base + 2u * q.hw) / 4u, vec4<f32>(v0.z, v1.z, v2.z, v3.z)); }
    if (f0 + 3u < q.filters) { ST4(dst, (base + 3u * q.hw) / 4u, vec4<f32>(v0.w, v1.w, v2.w, v3.w)); }
}
