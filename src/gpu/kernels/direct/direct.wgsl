// Direct convolution for every Conv2D configuration: groups (depthwise too), dilation, strides,
// asymmetric `same` padding (through row/col origins), both data formats. Each invocation computes
// TILE_F filters of one group x TILE_X output columns of one row, then adds the bias and applies
// the activation in its write step. Prepended with the shared WGSL (see program/wgsl.rs).

override TILE_F: u32 = 4u;
override TILE_X: u32 = 4u;
const WORKGROUP: u32 = 64u;
const MAX_TILE: u32 = 16u; // TILE_F * TILE_X must not exceed it (the planner checks)

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<ElemR>;
@group(0) @binding(2) var<storage, read> weights: array<ElemR>;
@group(0) @binding(3) var<storage, read> bias: array<ElemR>;
@group(0) @binding(4) var<storage, read_write> output: array<ElemW>;

fn input_index(n: u32, y: u32, x: u32, c: u32) -> u32 {
    if (p.channels_first != 0u) {
        return ((n * p.in_c + c) * p.in_h + y) * p.in_w + x;
    }
    return ((n * p.in_h + y) * p.in_w + x) * p.in_c + c;
}

fn output_index(n: u32, y: u32, x: u32, f: u32) -> u32 {
    if (p.channels_first != 0u) {
        return ((n * p.filters + f) * p.out_h + y) * p.out_w + x;
    }
    return ((n * p.out_h + y) * p.out_w + x) * p.filters + f;
}

@compute @workgroup_size(WORKGROUP)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = folded_index(wg, groups, lid, WORKGROUP);
    if (idx >= p.total) {
        return;
    }
    // Filter tiles vary fastest, so neighbouring invocations read the same input pixels.
    let tiles_per_pixel = p.groups * p.f_tiles;
    let ftile = idx % tiles_per_pixel;
    var rest = idx / tiles_per_pixel;
    let xt = rest % p.x_tiles;
    rest = rest / p.x_tiles;
    let oy = rest % p.out_h;
    let n = rest / p.out_h;
    let g = ftile / p.f_tiles;
    let f_first = g * p.f_g + (ftile % p.f_tiles) * TILE_F;
    let f_end = (g + 1u) * p.f_g;
    let x_first = xt * TILE_X;

    var acc: array<f32, MAX_TILE>;
    var w: array<f32, MAX_TILE>;
    for (var ky = 0u; ky < p.kernel_h; ky++) {
        let iy = i32(oy * p.stride_h + ky * p.dil_h) + p.row_origin;
        if (iy < 0 || iy >= i32(p.in_h)) {
            continue;
        }
        for (var kx = 0u; kx < p.kernel_w; kx++) {
            for (var c = 0u; c < p.cin_g; c++) {
                let w_row = ((ky * p.kernel_w + kx) * p.cin_g + c) * p.filters;
                for (var i = 0u; i < TILE_F; i++) {
                    let f = f_first + i;
                    w[i] = select(0.0, LD(weights, w_row + min(f, p.filters - 1u)), f < f_end);
                }
                for (var j = 0u; j < TILE_X; j++) {
                    let ox = x_first + j;
                    let ix = i32(ox * p.stride_w + kx * p.dil_w) + p.col_origin;
                    if (ox < p.out_w && ix >= 0 && ix < i32(p.in_w)) {
                        let v = LD(input, input_index(n, u32(iy), u32(ix), g * p.cin_g + c));
                        for (var i = 0u; i < TILE_F; i++) {
                            acc[j * TILE_F + i] += v * w[i];
                        }
                    }
                }
            }
        }
    }
    for (var j = 0u; j < TILE_X; j++) {
        let ox = x_first + j;
        for (var i = 0u; i < TILE_F; i++) {
            let f = f_first + i;
            if (ox < p.out_w && f < f_end) {
                var v = acc[j * TILE_F + i];
                if (p.has_bias != 0u) {
                    v = add_bias(v, LD(bias, f));
                }
                ST(output, output_index(n, oy, ox, f), activate(v, p.activation));
            }
        }
    }
}
