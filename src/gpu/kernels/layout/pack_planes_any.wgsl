// The pack pass for channels_first input whose planes do not hold whole vec4s (`hw` not a multiple
// of 4): one invocation transposes 4 consecutive pixels (which may cross into the next image) x 4
// packed channels with 16 scalar loads, 4 from each channel's plane. Integer division has no SIMD
// form on software adapters, so pixels and channels are decomposed once per invocation and
// stepped, not divided per value. Same packing as `pack_input.wgsl`. Prepended with the shared WGSL
// (see program/wgsl.rs).

const WORKGROUP: u32 = 256u; // PLANES_WORKGROUP in mod.rs
// The channel mapping, chosen when compiling: one group (0), groups (1), depthwise repetition (2).
override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> q: PackParams;
@group(0) @binding(1) var<storage, read> src: array<ElemR>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

// The input channels packed channels `j..j+4` hold, `in_c` (none) for padding.
fn source_channels(j: u32) -> vec4<u32> {
    var c = vec4<u32>(q.in_c);
    if (MODE == 0u) {
        for (var i = 0u; i < 4u; i++) {
            c[i] = select(q.in_c, j + i, j + i < q.cin_g);
        }
        return c;
    }
    // Depthwise: channel j / mult, repeated mult times; groups: cin_g real of every cp packed.
    let span = select(q.cp, q.mult, MODE == 2u);
    var whole = j / span;
    var rest = j - whole * span;
    for (var i = 0u; i < 4u; i++) {
        if (MODE == 2u) {
            c[i] = min(whole, q.in_c);
        } else if (rest < q.cin_g) {
            c[i] = min(whole * q.cin_g + rest, q.in_c);
        }
        rest += 1u;
        if (rest == span) {
            rest = 0u;
            whole += 1u;
        }
    }
    return c;
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (idx >= (q.pixels + 3u) / 4u * q.c4) {
        return;
    }
    let p0 = (idx / q.c4) * 4u;
    let j = (idx % q.c4) * 4u;
    let c = source_channels(j);
    // Pixel p0's image and position; the next three step along, wrapping into the next image.
    var image = p0 / q.hw;
    var at = p0 - image * q.hw;
    for (var k = 0u; k < 4u; k++) {
        if (p0 + k >= q.pixels) {
            return;
        }
        let base = image * q.in_c * q.hw + at;
        var v = vec4<f32>(0.0);
        for (var i = 0u; i < 4u; i++) {
            if (c[i] < q.in_c) {
                v[i] = LD(src, base + c[i] * q.hw);
            }
        }
        ST4(dst, (p0 + k) * q.c4 + j / 4u, v);
        at += 1u;
        if (at == q.hw) {
            at = 0u;
            image += 1u;
        }
    }
}
