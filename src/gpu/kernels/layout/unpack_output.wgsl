// Unpacks a vec4 kernel's channels_last output (`fp` packed filters per pixel, each group's
// filters padded to `fgp`) into the layer's layout (channels_last or channels_first, `filters`
// filters), dropping the padding. One invocation writes one output value, in output order, so
// the writes are contiguous in either layout. `unpack_planes.wgsl` is the faster form for
// channels_first planes of whole vec4s. Prepended with the shared WGSL (see program/wgsl.rs).

const WORKGROUP: u32 = 64u;
// The output is channels_first, chosen when compiling.
override NCHW: u32 = 0u;

@group(0) @binding(0) var<uniform> q: UnpackParams;
@group(0) @binding(1) var<storage, read> src: array<ElemR>;
@group(0) @binding(2) var<storage, read_write> dst: array<ElemW>;

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (idx >= q.total) {
        return;
    }
    var pixel: u32;
    var f: u32;
    if (NCHW != 0u) {
        let plane = q.filters * q.hw;
        let rest = idx % plane;
        pixel = (idx / plane) * q.hw + rest % q.hw;
        f = rest / q.hw;
    } else {
        pixel = idx / q.filters;
        f = idx % q.filters;
    }
    ST(dst, idx, LD(src, pixel * q.fp + (f / q.f_g) * q.fgp + f % q.f_g));
}
