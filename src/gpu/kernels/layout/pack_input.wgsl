// Packs a chunk's input for the vec4 kernels: from channels_last or channels_first, `in_c`
// channels, to channels_last pixels of `c4` vec4s, each group's channels padded with zeros to a
// whole number of vec4s (`cp` per group), or for a depthwise layer with `mult` filters per
// channel each channel repeated `mult` times (then padded at the end). Prepended with the shared
// WGSL (see program/wgsl.rs).
//
// Two paths. `fast` (channels_first, `hw` a multiple of 4): one invocation transposes 4 pixels x
// 4 packed channels, with 4 vec4 loads along each channel's plane and 4 vec4 stores; on software
// adapters, where every storage access is a per-lane loop, that is 8 accesses for 16 values
// instead of 20. Otherwise one invocation writes one packed vec4 from 4 scalar reads.

// Kept in sync with `PackUniform` in src/gpu/kernels/layout/mod.rs.
struct PackParams {
    pixels: u32, in_c: u32, c4: u32, hw: u32,
    channels_first: u32, cin_g: u32, cp: u32, mult: u32,
    fast: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

const WORKGROUP: u32 = 256u; // PASS_WORKGROUP in mod.rs

@group(0) @binding(0) var<uniform> q: PackParams;
@group(0) @binding(1) var<storage, read> src: array<Elem4>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

// The input channel packed channel `j` holds, or `in_c` (none) for padding.
fn source_channel(j: u32) -> u32 {
    if (q.mult > 0u) {
        return min(j / q.mult, q.in_c); // depthwise: channel j / mult, repeated mult times
    }
    let i = j % q.cp;
    if (i >= q.cin_g) {
        return q.in_c;
    }
    return min((j / q.cp) * q.cin_g + i, q.in_c);
}

fn scalar(i: u32) -> f32 {
    return f32(src[i / 4u][i % 4u]);
}

fn channel(pixel: u32, j: u32) -> f32 {
    let c = source_channel(j);
    if (c >= q.in_c) {
        return 0.0;
    }
    if (q.channels_first != 0u) {
        return scalar((pixel / q.hw * q.in_c + c) * q.hw + pixel % q.hw);
    }
    return scalar(pixel * q.in_c + c);
}

// Channel `j`'s values at 4 pixels starting at `pixel` (channels_first, a multiple of 4 in its plane).
fn plane4(pixel: u32, j: u32) -> vec4<f32> {
    let c = source_channel(j);
    if (c >= q.in_c) {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(src[((pixel / q.hw * q.in_c + c) * q.hw + pixel % q.hw) / 4u]);
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (q.fast != 0u) {
        if (idx >= q.pixels / 4u * q.c4) {
            return;
        }
        let p0 = (idx / q.c4) * 4u;
        let j = (idx % q.c4) * 4u;
        let v0 = plane4(p0, j);
        let v1 = plane4(p0, j + 1u);
        let v2 = plane4(p0, j + 2u);
        let v3 = plane4(p0, j + 3u);
        dst[p0 * q.c4 + j / 4u] = Elem4(vec4<f32>(v0.x, v1.x, v2.x, v3.x));
        dst[(p0 + 1u) * q.c4 + j / 4u] = Elem4(vec4<f32>(v0.y, v1.y, v2.y, v3.y));
        dst[(p0 + 2u) * q.c4 + j / 4u] = Elem4(vec4<f32>(v0.z, v1.z, v2.z, v3.z));
        dst[(p0 + 3u) * q.c4 + j / 4u] = Elem4(vec4<f32>(v0.w, v1.w, v2.w, v3.w));
        return;
    }
    if (idx >= q.pixels * q.c4) {
        return;
    }
    let pixel = idx / q.c4;
    let j = (idx % q.c4) * 4u;
    dst[idx] = Elem4(vec4<f32>(channel(pixel, j), channel(pixel, j + 1u), channel(pixel, j + 2u), channel(pixel, j + 3u)));
}
