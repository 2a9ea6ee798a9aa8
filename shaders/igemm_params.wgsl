
// Shape parameters of the implicit-GEMM kernel (rows = output pixels, columns = filters,
// K = taps x input channels). Kept in sync with `IgemmUniform` in src/gpu/kernels/params.rs
// (a test checks its size and offsets against naga's layout).
struct IgemmParams {
    m: u32, out_h: u32, out_w: u32, in_h: u32,
    in_w: u32, in_c4: u32, f4: u32, groups: u32,
    cin4: u32, fg4: u32, kernel_h: u32, kernel_w: u32,
    stride_h: u32, stride_w: u32, dil_h: u32, dil_w: u32,
    col_tiles: u32, tiles: u32, has_bias: u32, activation: u32,
    row_origin: i32, col_origin: i32, out_nchw: u32, _pad1: u32,
}
