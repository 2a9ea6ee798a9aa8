// The layout passes' uniforms (pack_input, pack_planes, unpack_output, unpack_planes).

// Kept in sync with `PackUniform` in src/gpu/kernels/layout/mod.rs
// (a test checks its size and offsets against naga's layout).
struct PackParams {
    pixels: u32, in_c: u32, c4: u32, hw: u32,
    channels_first: u32, cin_g: u32, cp: u32, mult: u32,
    fast: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

// Kept in sync with `UnpackUniform` in src/gpu/kernels/layout/mod.rs
// (a test checks its size and offsets against naga's layout).
struct UnpackParams {
    pixels: u32, filters: u32, fp: u32, hw: u32,
    channels_first: u32, f_g: u32, fgp: u32, total: u32,
    fast: u32, _pad0: u32, _pad1: u32, _pad2: u32,
}

