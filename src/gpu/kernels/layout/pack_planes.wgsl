// The pack pass for channels_first input whose planes hold whole vec4s (`hw` a multiple of 4): one
// invocation transposes 4 pixels x 4 packed channels, with 4 vec4 loads along the channels'
// planes and 4 vec4 stores; on software adapters, where every storage access is a per-lane loop,
// that is 8 accesses for 16 values instead of 20. Same packing as `pack_input.wgsl`. Prepended
// with the shared WGSL (see program/wgsl.rs).

const WORKGROUP: u32 = 256u; // PLANES_WORKGROUP in mod.rs
// The channel mapping, chosen when compiling: one group (0), groups (1), depthwise repetition (2).
override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> q: PackParams;
@group(0) @binding(1) var<storage, read> src: array<Elem4>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

fn source_channel(j: u32) -> u32 {
    if (MODE == 2u) {
        return min(j / q.mult, q.in_c);
    }
    if (MODE == 0u) {
        return select(q.in_c, j, j < q.cin_g);
    }
    let i = j % q.cp;
    if (i >= q.cin_g) {
        return q.in_c;
    }
    return min((j / q.cp) * q.cin_g + i, q.in_c);
}

// Channel `j`'s values at the 4 pixels from `pixel` (a multiple of 4 in its plane).
fn plane4(pixel: u32, j: u32) -> vec4<f32> {
    let c = source_channel(j);
    if (c >= q.in_c) {
        return vec4<f32>(0.0);
    }
    return LD4(src, ((pixel / q.hw * q.in_c + c) * q.hw + pixel % q.hw) / 4u);
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (idx >= q.pixels / 4u * q.c4) {
        return;
    }
    let p0 = (idx / q.c4) * 4u;
    let j = (idx % q.c4) * 4u;
    let v0 = plane4(p0, j);
    let v1 = plane4(p0, j + 1u);
    let v2 = plane4(p0, j + 2u);
    let v3 = plane4(p0, j + 3u);
    ST4(dst, p0 * q.c4 + j / 4u, vec4<f32>(v0.x, v1.x, v2.x, v3.x));
    ST4(dst, (p0 + 1u) * q.c4 + j / 4u, vec4<f32>(v0.y, v1.y, v2.y, v3.y));
    ST4(dst, (p0 + 2u) * q.c4 + j / 4u, vec4<f32>(v0.z, v1.z, v2.z, v3.z));
    ST4(dst, (p0 + 3u) * q.c4 + j / 4u, vec4<f32>(v0.w, v1.w, v2.w, v3.w));
}
