// Writes one filter slice's output into its place in the layer's output: slice channel `c` of
// group `c / per_group` goes to layer channel `(c / per_group) · group_stride + offset + c %
// per_group`, so the slices of a split kernel together fill every output channel exactly once.
// Prepended with the shared WGSL (see program/wgsl.rs).

// Kept in sync with `MergeFiltersUniform` in src/gpu/kernels/merge_filters/mod.rs.
struct MergeParams {
    len: u32, slice_filters: u32, per_group: u32, group_stride: u32,
    offset: u32, filters: u32, plane: u32, _pad: u32,
}

const WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<uniform> q: MergeParams;
@group(0) @binding(1) var<storage, read> src: array<ElemR>;
@group(0) @binding(2) var<storage, read_write> dst: array<ElemW>;

fn layer_channel(c: u32) -> u32 {
    return (c / q.per_group) * q.group_stride + q.offset + c % q.per_group;
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = folded_index(wg, groups, lid, WORKGROUP);
    if (i >= q.len) {
        return;
    }
    if (q.plane == 0u) {
        // channels_last: i = pixel · slice_filters + c.
        let pixel = i / q.slice_filters;
        ST(dst, pixel * q.filters + layer_channel(i % q.slice_filters), LD(src, i));
    } else {
        // channels_first: i = (image · slice_filters + c) · plane + position.
        let position = i % q.plane;
        let row = i / q.plane;
        let image = row / q.slice_filters;
        let c = layer_channel(row % q.slice_filters);
        ST(dst, (image * q.filters + c) * q.plane + position, LD(src, i));
    }
}
