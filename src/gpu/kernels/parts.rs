//! WGSL the generated conv kernels share: their five bindings (the weights a buffer or a
//! texture), their two entry points (one lane per output block in workgroups of 64; one 8-lane
//! subgroup per tile), the names of a vec4's lanes, and the subgroup GEMMs' weight loads and
//! update (a broadcast operand vec4 times 4 weight vec4s, column by column).

use crate::gpu::program::WgslWriter;

/// A vec4's lanes, in order.
pub(crate) const XYZW: [char; 4] = ['x', 'y', 'z', 'w'];

/// The uniform `p` of WGSL struct `params`, then input, weights, bias and output as vec4 arrays.
pub(crate) fn conv_bindings(w: &mut WgslWriter, params: &str) {
    conv_bindings_of(w, params, false);
}

/// As [`conv_bindings`], the weights at 2 a `texture_2d<f32>` of one row per HWIO row and one
/// texel per 4 filters ([`crate::gpu::kernels::WeightPrep::texture`]) when `texture_weights`.
pub(crate) fn conv_bindings_of(w: &mut WgslWriter, params: &str, texture_weights: bool) {
    w.line(format!("@group(0) @binding(0) var<uniform> p: {params};"));
    w.line("@group(0) @binding(1) var<storage, read> input: array<Elem4>;");
    w.line(if texture_weights {
        "@group(0) @binding(2) var weights: texture_2d<f32>;"
    } else {
        "@group(0) @binding(2) var<storage, read> weights: array<Elem4>;"
    });
    w.lines(
        "@group(0) @binding(3) var<storage, read> bias: array<Elem4>;
        @group(0) @binding(4) var<storage, read_write> output: array<Elem4>;",
    );
}

/// The subgroup GEMMs' `kr` for weight row `row`: the row itself in a texture, its first vec4
/// (the row times `p.f4`) in a buffer; [`weight_load`] reads from it.
pub(crate) fn weight_row(texture: bool, row: &str) -> String {
    if texture {
        format!("let kr = {row};")
    } else {
        format!("let kr = ({row}) * p.f4;")
    }
}

/// The subgroup GEMMs' load of `b{tt}_{q}`, weight row `kr + q`'s vec4 of filters `col{tt}`,
/// `kr` from [`weight_row`].
fn weight_load(texture: bool, tt: u32, q: u32) -> String {
    if texture {
        format!("let b{tt}_{q} = textureLoad(weights, vec2<u32>(col{tt}, kr + {q}u), 0);")
    } else {
        format!("let b{tt}_{q} = LD4(weights, kr + {q}u * p.f4 + col{tt});")
    }
}

/// Opens `main` for workgroups of 64 invocations, each its own block: `idx` (the folded
/// invocation index), past `p.total` returning.
pub(crate) fn blocked_entry(w: &mut WgslWriter) {
    w.lines(
        "const WORKGROUP: u32 = 64u;
        @compute @workgroup_size(WORKGROUP)
        fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
        let idx = folded_index(wg, groups, lid, WORKGROUP);
        if (idx >= p.total) { return; }",
    );
}

/// Opens `main` for one 8-lane subgroup per workgroup: `lane`, the `tile` index and `live`
/// (false for the surplus workgroups of a folded dispatch).
pub(crate) fn subgroup_entry(w: &mut WgslWriter) {
    w.lines(
        "@compute @workgroup_size(8)
        fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
        // Dispatches beyond the per-dimension limit are folded into y. Surplus workgroups redo the
        // last tile without storing: an early return would make every later subgroup op divergent.
        let folded = wg.y * nwg.x + wg.x;
        let live = folded < p.tiles;
        let tile = min(folded, p.tiles - 1u);",
    );
}

/// The update of `rows` × `t` accumulators `acc{i}_{tt}` for one step of 4 channels: row `i`'s
/// channel vec4 is `av{r}` of lane `l` for `(r, l) = owner(i)`, shared with `subgroupBroadcast`,
/// times the lane's 4 weight vec4s `b{tt}_0..3` (a mat4 × vec4), loaded here ([`weight_load`],
/// `kr` from [`weight_row`]). One column at a time: its 4 weight vec4s, then every row. Loading
/// all `4t` first and broadcasting each row once keeps up to 64 weight registers live, more than
/// llvmpipe's 32; this order keeps 16 and broadcasts `t` times as often (measured 1.05-1.16x on
/// a 28x28 3x3 layer of 64 px x 128 f tiles).
pub(crate) fn broadcast_mat4(
    w: &mut WgslWriter,
    rows: u32,
    t: u32,
    texture_weights: bool,
    owner: impl Fn(u32) -> (u32, u32),
) {
    for tt in 0..t {
        for q in 0..4 {
            w.line(weight_load(texture_weights, tt, q));
        }
        for i in 0..rows {
            let (register, lane) = owner(i);
            w.line(format!("{{ let a = subgroupBroadcast(av{register}, {lane}u);"));
            w.line(format!(
                "acc{i}_{tt} += b{tt}_0 * a.x + b{tt}_1 * a.y + b{tt}_2 * a.z + b{tt}_3 * a.w; }}"
            ));
        }
    }
}
