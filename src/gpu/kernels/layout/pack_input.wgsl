// Packs a chunk's channels_last input for the vec4 kernels: `in_c` channels to pixels of `c4`
// vec4s, each group's channels padded with zeros to a whole number of vec4s (`cp` per group), or for a depthwise layer with `mult` filters per
// channel each channel repeated `mult` times (then padded at the end). One invocation writes one
// packed vec4 from 4 scalar reads. channels_first input takes `pack_planes.wgsl` (planes of
// whole vec4s) or `pack_planes_any.wgsl`. Prepended with the shared WGSL (see program/wgsl.rs).

const WORKGROUP: u32 = 64u;
// Compile-time choice (a runtime branch costs llvmpipe both sides): the channel mapping is one
// group (0), groups (1) or depthwise repetition (2).
override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> q: PackParams;
@group(0) @binding(1) var<storage, read> src: array<ElemR>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

// The input channel packed channel `j` holds, or `in_c` (none) for padding.
fn source_channel(j: u32) -> u32 {
    if (MODE == 2u) {
        return min(j / q.mult, q.in_c); // depthwise: channel j / mult, repeated mult times
    }
    if (MODE == 0u) {
        return select(q.in_c, j, j < q.cin_g); // one group: no division
    }
    let i = j % q.cp;
    if (i >= q.cin_g) {
        return q.in_c;
    }
    return min((j / q.cp) * q.cin_g + i, q.in_c);
}

fn channel(pixel: u32, j: u32) -> f32 {
    let c = source_channel(j);
    if (c >= q.in_c) {
        return 0.0;
    }
    return LD(src, pixel * q.in_c + c);
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
    let j = (idx % q.c4) * 4u;
    ST4(dst, idx, vec4<f32>(channel(pixel, j), channel(pixel, j + 1u), channel(pixel, j + 2u), channel(pixel, j + 3u)));
}
