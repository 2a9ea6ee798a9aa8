// Shape parameters of one conv dispatch. Kept in sync with `ConvUniform` in src/gpu/kernels/params.rs
// (a test checks its size and offsets against naga's layout).
struct ConvParams {
    batch: u32, in_h: u32, in_w: u32, in_c: u32,
    out_h: u32, out_w: u32, filters: u32, groups: u32,
    kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
    dil_h: u32, dil_w: u32, cin_g: u32, f_g: u32,
    f_tiles: u32, x_tiles: u32, channels_first: u32, has_bias: u32,
    activation: u32, total: u32, row_origin: i32, col_origin: i32,
}
