// Implicit GEMM with workgroup-memory tiles: the structure that is fast on discrete GPUs (TF.js
// Conv2DMM, ORT Conv2dMM; see the crate docs' KERNELS notes), where the subgroup-broadcast kernels
// shaped for llvmpipe would waste a 32-lane subgroup. M = output pixels, N = filters of one group,
// K = taps x channels of the group. A workgroup of 8x8 invocations owns 32 pixels x 32 filters;
// per K step of 32 it stages the gathered input tile (32 pixels x 8 channel vec4s) and the weight
// tile (32 k x 8 filter vec4s) in workgroup memory, then each invocation updates 4 pixels x 4
// filters from them. Stride, dilation and padding are folded into the gather; the group index
// comes from the dispatch. Channels_last, channels and filters per group multiples of 4. Bias and
// activation are fused in the write. Prepended with the shared WGSL (see program/wgsl.rs).

const TM: u32 = 32u;  // output pixels per workgroup
const TN4: u32 = 8u;  // filter vec4s per workgroup
const TK4: u32 = 8u;  // channel vec4s (32 k) per step

@group(0) @binding(0) var<uniform> p: IgemmParams;
@group(0) @binding(1) var<storage, read> input: array<Elem4>;
@group(0) @binding(2) var<storage, read> weights: array<Elem4>;
@group(0) @binding(3) var<storage, read> bias: array<Elem4>;
@group(0) @binding(4) var<storage, read_write> output: array<Elem4>;

// store4 / load4 (kernels/store.rs): the write step for the variant's output layout.
STORE_FUNCTIONS

var<workgroup> a_tile: array<array<vec4<f32>, 8>, 32>; // [pixel][k vec4]
var<workgroup> b_tile: array<array<vec4<f32>, 8>, 32>; // [k][filter vec4]

// Input vec4 `k4` (= tap * cin4 + channel vec4) of output pixel `m` in group `g`; zero outside.
fn gather(m: u32, k4: u32, k4_total: u32, g: u32) -> vec4<f32> {
    if (m >= p.m || k4 >= k4_total) {
        return vec4<f32>(0.0);
    }
    let tap = k4 / p.cin4;
    let c4 = k4 % p.cin4;
    let ky = tap / p.kernel_w;
    let kx = tap % p.kernel_w;
    let ox = m % p.out_w;
    let oyn = m / p.out_w;
    let iy = i32((oyn % p.out_h) * p.stride_h + ky * p.dil_h) + p.row_origin;
    let ix = i32(ox * p.stride_w + kx * p.dil_w) + p.col_origin;
    if (iy < 0 || iy >= i32(p.in_h) || ix < 0 || ix >= i32(p.in_w)) {
        return vec4<f32>(0.0);
    }
    let img = (oyn / p.out_h) * p.in_h;
    return LD4(input, ((img + u32(iy)) * p.in_w + u32(ix)) * p.in_c4 + g * p.cin4 + c4);
}

@compute @workgroup_size(8, 8)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid3: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Surplus workgroups of a folded dispatch redo the last tile without storing: barriers need
    // every invocation of the workgroup to reach them.
    let folded = wg.y * nwg.x + wg.x;
    let live = folded < p.tiles;
    let tile = min(folded, p.tiles - 1u);
    let ct = tile % p.col_tiles;
    let rest = tile / p.col_tiles;
    let g = rest % p.groups;
    let row0 = (rest / p.groups) * TM;
    let cu = ct * TN4 + lid3.x; // this invocation's filter vec4 within the group
    let k4_total = p.kernel_h * p.kernel_w * p.cin4;
    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < k4_total; k0 += TK4) {
        for (var i = 0u; i < 4u; i++) {
            let e = lid + 64u * i;
            a_tile[e / TK4][e % TK4] = gather(row0 + e / TK4, k0 + e % TK4, k4_total, g);
            let k = k0 * 4u + e / TN4;
            let c = ct * TN4 + e % TN4;
            var b = vec4<f32>(0.0);
            if (k < k4_total * 4u && c < p.fg4) {
                b = LD4(weights, k * p.f4 + g * p.fg4 + c);
            }
            b_tile[e / TN4][e % TN4] = b;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK4; kk++) {
            let b0 = b_tile[kk * 4u][lid3.x];
            let b1 = b_tile[kk * 4u + 1u][lid3.x];
            let b2 = b_tile[kk * 4u + 2u][lid3.x];
            let b3 = b_tile[kk * 4u + 3u][lid3.x];
            for (var r = 0u; r < 4u; r++) {
                let a = a_tile[lid3.y * 4u + r][kk];
                acc[r] += b0 * a.x + b1 * a.y + b2 * a.z + b3 * a.w;
            }
        }
        workgroupBarrier();
    }
    if (!live || cu >= p.fg4) {
        return;
    }
    let col = g * p.fg4 + cu;
    let b = select(vec4<f32>(0.0), LD4(bias, col), p.has_bias != 0u);
    for (var r = 0u; r < 4u; r++) {
        let m = row0 + lid3.y * 4u + r;
        if (m < p.m) {
            store4(m, col, activate4(add_bias4(acc[r], b), p.activation));
        }
    }
}
