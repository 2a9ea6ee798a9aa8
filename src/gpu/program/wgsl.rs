//! Assembles a program's WGSL module: the element-type header, then the WGSL shared by several
//! programs (`shaders/`: the folded dispatch index, the activation math, the shared uniform
//! structs), then the program's own body, its storage accessors expanded (`program/access.rs`).

use crate::gpu::program::ElementType;
use crate::keras::dtype::FloatType;

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const ACTIVATION: &str = include_str!("../../../shaders/activation.wgsl");
const CONV_PARAMS: &str = include_str!("../../../shaders/conv_params.wgsl");
const IGEMM_PARAMS: &str = include_str!("../../../shaders/igemm_params.wgsl");
const LAYOUT_PARAMS: &str = include_str!("../../../shaders/layout_params.wgsl");

/// The full module of a program whose own WGSL is `body`, for `element`, its write steps
/// rounding to `round` (`ROUND`: 0 none, 1 float16, 2 bfloat16).
pub fn assemble(element: ElementType, round: FloatType, body: &str) -> String {
    let code = match round {
        FloatType::Float32 => 0,
        FloatType::Float16 => 1,
        FloatType::BFloat16 => 2,
    };
    let module = format!(
        "{}const ROUND: u32 = {code}u;\n{COMMON}\n{CONV_PARAMS}\n{IGEMM_PARAMS}\n{LAYOUT_PARAMS}\n{ACTIVATION}\n{body}",
        element.wgsl_header()
    );
    super::access::expand(element, &module)
}
