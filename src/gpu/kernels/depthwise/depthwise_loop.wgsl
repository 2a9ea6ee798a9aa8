// Depthwise convolution (groups = channels, one filter per channel), channels_last, channels a
// multiple of 4: each invocation computes 4 channels (one vec4) x 4 output columns of one row, with
// vec4 loads of input and weights, then adds the bias and applies the activation in its write step.
// Prepended with the shared WGSL (see program/wgsl.rs). Uses ConvParams: `x_tiles` = ceil(out_w / 4),
// `total` = batch * out_h * x_tiles * in_c / 4.

const WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<uniform> p: ConvParams;
@group(0) @binding(1) var<storage, read> input: array<Elem4>;
@group(0) @binding(2) var<storage, read> weights: array<Elem4>;
@group(0) @binding(3) var<storage, read> bias: array<Elem4>;
@group(0) @binding(4) var<storage, read_write> output: array<Elem4>;

fn tap(n: u32, iy: i32, ox: u32, kx: u32, c4: u32, c4n: u32) -> vec4<f32> {
    let ix = i32(ox * p.stride_w + kx * p.dil_w) + p.col_origin;
    let ok = ox < p.out_w && ix >= 0 && ix < i32(p.in_w);
    let at = select(0u, ((n * p.in_h + u32(iy)) * p.in_w + u32(ix)) * c4n + c4, ok);
    return select(vec4<f32>(0.0), LD4(input, at), ok);
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
    // Channel vec4s vary fastest: neighbouring invocations read neighbouring memory.
    let c4n = p.in_c / 4u;
    let c4 = idx % c4n;
    var rest = idx / c4n;
    let x0 = (rest % p.x_tiles) * 4u;
    rest = rest / p.x_tiles;
    let oy = rest % p.out_h;
    let n = rest / p.out_h;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var ky = 0u; ky < p.kernel_h; ky++) {
        let iy = i32(oy * p.stride_h + ky * p.dil_h) + p.row_origin;
        if (iy < 0 || iy >= i32(p.in_h)) {
            continue;
        }
        for (var kx = 0u; kx < p.kernel_w; kx++) {
            let w = LD4(weights, (ky * p.kernel_w + kx) * c4n + c4);
            acc0 += tap(n, iy, x0, kx, c4, c4n) * w;
            acc1 += tap(n, iy, x0 + 1u, kx, c4, c4n) * w;
            acc2 += tap(n, iy, x0 + 2u, kx, c4, c4n) * w;
            acc3 += tap(n, iy, x0 + 3u, kx, c4, c4n) * w;
        }
    }
    let b = select(vec4<f32>(0.0), LD4(bias, c4), p.has_bias != 0u);
    let row = (n * p.out_h + oy) * p.out_w;
    ST4(output, (row + x0) * c4n + c4, activate4(add_bias4(acc0, b), p.activation));
    if (x0 + 1u < p.out_w) {
        ST4(output, (row + x0 + 1u) * c4n + c4, activate4(add_bias4(acc1, b), p.activation));
    }
    if (x0 + 2u < p.out_w) {
        ST4(output, (row + x0 + 2u) * c4n + c4, activate4(add_bias4(acc2, b), p.activation));
    }
    if (x0 + 3u < p.out_w) {
        ST4(output, (row + x0 + 3u) * c4n + c4, activate4(add_bias4(acc3, b), p.activation));
    }
}
