// The fold pass (see fold.rs): a chunk's input, channels_last or channels_first (NCHW), written as
// `rows x out_w` pixels of `c4` vec4s, folded channel `kx * in_c + c` holding input column
// `ox * stride_w + kx * dil_w + col_origin` of channel c (0 outside the row, and past kw * in_c).
// One invocation writes one folded pixel. Prepended with the shared WGSL (see
// program/wgsl.rs).

const WORKGROUP: u32 = 64u;
// Compile-time choice (a runtime branch costs llvmpipe both sides): the input is NCHW (1) or NHWC (0).
override NCHW: u32 = 0u;

// Kept in sync with `FoldUniform` in fold.rs (a test checks its size and offsets against naga's).
struct FoldParams {
    pixels: u32, c4: u32, in_c: u32, in_w: u32,
    out_w: u32, rows: u32, kernel_w: u32, stride_w: u32,
    dil_w: u32, col_origin: i32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> q: FoldParams;
@group(0) @binding(1) var<storage, read> src: array<ElemR>;
@group(0) @binding(2) var<storage, read_write> dst: array<Elem4>;

// The input value of column `x` of row `y` of image `n`, channel `c` (0 outside the row).
fn value(n: u32, y: u32, x: i32, c: u32) -> f32 {
    if (x < 0 || x >= i32(q.in_w)) {
        return 0.0;
    }
    if (NCHW == 1u) {
        return LD(src, ((n * q.in_c + c) * q.rows + y) * q.in_w + u32(x));
    }
    return LD(src, ((n * q.rows + y) * q.in_w + u32(x)) * q.in_c + c);
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // One folded pixel per invocation, its (kx, c) pairs stepped rather than divided: integer
    // division is a per-lane loop on llvmpipe, and one per value made this pass cost a third of
    // the stem's conv.
    let pixel = folded_index(wg, groups, lid, WORKGROUP);
    if (pixel >= q.pixels) {
        return;
    }
    let ox = pixel % q.out_w;
    let rest = pixel / q.out_w;
    let y = rest % q.rows;
    let n = rest / q.rows;
    let x0 = i32(ox * q.stride_w) + q.col_origin;
    var kx = 0u;
    var c = 0u;
    for (var v = 0u; v < q.c4; v++) {
        var out = vec4<f32>(0.0);
        for (var k = 0u; k < 4u; k++) {
            if (kx < q.kernel_w) {
                out[k] = value(n, y, x0 + i32(kx * q.dil_w), c);
            }
            c += 1u;
            if (c == q.in_c) {
                c = 0u;
                kx += 1u;
            }
        }
        ST4(dst, pixel * q.c4 + v, out);
    }
}
