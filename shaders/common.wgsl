// Shape parameters of one conv dispatch. Kept in sync with `ConvUniform` in src/gpu/params.rs
// (a test checks the size against naga's layout).
struct ConvParams {
    batch: u32, in_h: u32, in_w: u32, in_c: u32,
    out_h: u32, out_w: u32, filters: u32, groups: u32,
    kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
    dil_h: u32, dil_w: u32, cin_g: u32, f_g: u32,
    f_tiles: u32, x_tiles: u32, channels_first: u32, has_bias: u32,
    activation: u32, total: u32, row_origin: i32, col_origin: i32,
}

// Shape parameters of the last-axis pass. Kept in sync with `LastAxisUniform` in src/gpu/params.rs.
struct LastAxisParams {
    lanes: u32, len: u32, activation: u32, _pad: u32,
}

// Shape parameters of the implicit-GEMM kernel (rows = output pixels, columns = filters,
// K = taps x input channels). Kept in sync with `IgemmUniform` in src/gpu/params.rs.
struct IgemmParams {
    m: u32, out_h: u32, out_w: u32, in_h: u32,
    in_w: u32, in_c4: u32, f4: u32, groups: u32,
    cin4: u32, fg4: u32, kernel_h: u32, kernel_w: u32,
    stride_h: u32, stride_w: u32, dil_h: u32, dil_w: u32,
    col_tiles: u32, tiles: u32, has_bias: u32, activation: u32,
    row_origin: i32, col_origin: i32, _pad0: u32, _pad1: u32,
}

// The channel-padding pass: `pixels` pixels of `in_c` channels become `c4` vec4s each.
// Kept in sync with `PadUniform` in src/gpu/params.rs.
struct PadParams {
    pixels: u32, in_c: u32, c4: u32, _pad: u32,
}

// The linear invocation index of a dispatch folded into (x, y) by the planner's `fold_dispatch`
// (workgroups beyond the per-dimension limit continue in y).
fn folded_index(wg: vec3<u32>, groups: vec3<u32>, lid: u32, workgroup_size: u32) -> u32 {
    return (wg.y * groups.x + wg.x) * workgroup_size + lid;
}
