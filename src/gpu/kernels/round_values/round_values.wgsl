// Casts a resident tensor to a layer's storage type and rounds it to the layer's compute dtype
// (Keras casts a layer's input to it), into a new buffer: the input is never written. The source
// and destination types (`SRC`, `DST`: f32 or the storage type) and their accesses (`LOAD`, `STORE`)
// are chosen when the source is generated.
// Prepended with the shared WGSL (see program/wgsl.rs).

// Kept in sync with `RoundUniform` in src/gpu/kernels/round_values/mod.rs.
struct RoundParams {
    len: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

const WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<uniform> q: RoundParams;
@group(0) @binding(1) var<storage, read> src: array<SRC>;
@group(0) @binding(2) var<storage, read_write> dst: array<DST>;

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = folded_index(wg, groups, lid, WORKGROUP);
    if (i < q.len) {
        STORE(round_to(LOAD));
    }
}
