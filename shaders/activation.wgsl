// Element-wise Keras activations in forms that stay finite for large |x| (WGSL's tanh may return
// NaN there on some drivers). The CPU twin is src/keras/activation.rs; the ids are the table in
// src/gpu/kernels/epilogue.rs (`activation_id`).

fn expm1_f(y: f32) -> f32 {
    // Taylor series below 0.5 keeps relative precision near 0, where exp(y) - 1 cancels.
    if (abs(y) < 0.5) {
        return y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0
            + y * (1.0 / 720.0 + y * (1.0 / 5040.0 + y * (1.0 / 40320.0))))))));
    }
    return exp(y) - 1.0;
}

fn log1p_f(y: f32) -> f32 {
    if (abs(y) < 1e-4) {
        return y * (1.0 - y * (0.5 - y / 3.0));
    }
    return log(1.0 + y);
}

fn safe_tanh(x: f32) -> f32 {
    let em = expm1_f(-2.0 * abs(x));
    return sign(x) * (-em / (2.0 + em));
}

fn sigmoid_f(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

fn softplus_f(x: f32) -> f32 {
    return max(x, 0.0) + log1p_f(exp(-abs(x)));
}

// erf with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), for exact-form gelu.
fn erf_f(x: f32) -> f32 {
    let z = abs(x);
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return sign(x) * (1.0 - r);
}

fn hard_sigmoid_f(x: f32) -> f32 {
    return clamp(x / 6.0 + 0.5, 0.0, 1.0);
}

// `x` rounded to float16 (to nearest even, inf from 65520 on) in f32 arithmetic and integer bit
// operations, so no adapter feature is needed: 11 significant bits, subnormals on a 2^-24 grid.
// Branch-free: software adapters run both sides of a divergent branch anyway.
fn round_f16(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let sign = bits & 0x80000000u;
    let magnitude = bits ^ sign;
    let a = bitcast<f32>(magnitude);
    let normal = (magnitude + 0xfffu + ((magnitude >> 13u) & 1u)) & 0xffffe000u;
    let subnormal = bitcast<u32>(round(a * 16777216.0) * 5.9604644775390625e-08);
    let rounded = select(select(normal, subnormal, a < 6.103515625e-05), 0x7f800000u, a >= 65520.0);
    return bitcast<f32>(sign | rounded);
}

// `x` rounded to bfloat16 (to nearest even): f32's upper 16 bits.
fn round_bf16(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let rounded = (bits + 0x7fffu + ((bits >> 16u) & 1u)) & 0xffff0000u;
    return bitcast<f32>(select(rounded, bits, (bits & 0x7f800000u) == 0x7f800000u));
}

// `x` rounded to the compute dtype the program was compiled for (`ROUND`, set by the program
// key: 0 none, 1 float16, 2 bfloat16), so a float32 program carries no rounding at all.
fn round_to(x: f32) -> f32 {
    if (ROUND == 1u) {
        return round_f16(x);
    }
    if (ROUND == 2u) {
        return round_bf16(x);
    }
    return x;
}

// The convolution's sum rounded to the compute dtype, the bias added and the sum rounded again,
// as Keras rounds both (so a linear layer needs no further pass over its output).
fn add_bias(acc: f32, b: f32) -> f32 {
    return round_to(round_to(acc) + b);
}

fn round4(v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(round_to(v.x), round_to(v.y), round_to(v.z), round_to(v.w));
}

fn add_bias4(acc: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    if (ROUND == 0u) {
        return acc + b;
    }
    return round4(round4(acc) + b);
}

// The activation `kind` (its id): the sum of the convolution and the bias is rounded, activated,
// and rounded again, as a half-precision Keras layer does (no-ops in float32 programs).
fn activate(x: f32, kind: u32) -> f32 {
    if (ROUND == 0u) {
        return activation_of(x, kind);
    }
    return round_to(activation_of(round_to(x), kind));
}

fn activation_of(x: f32, kind: u32) -> f32 {
    switch kind {
        case 1u: { return max(x, 0.0); }
        case 2u: { return select(0.2 * x, x, x >= 0.0); }
        case 3u: { return clamp(x, 0.0, 6.0); }
        case 4u: { return select(expm1_f(x), x, x > 0.0); }
        case 5u: { return 1.0507009873554805 * select(1.6732632423543772 * expm1_f(x), x, x > 0.0); }
        case 6u: { return max(x, 0.0) + expm1_f(min(x, 0.0)); }
        case 7u: { return softplus_f(x); }
        case 8u: { return x / (1.0 + abs(x)); }
        case 9u: { return (x + sqrt(x * x + 4.0)) * 0.5; }
        case 10u: { return select(select(0.0, x + 0.5, x < -0.5), x - 0.5, x > 0.5); }
        case 11u: { return select(0.0, x, abs(x) > 0.5); }
        case 12u: { return x - safe_tanh(x); }
        case 13u: { return select(select(0.25 * (x + 1.0) * (x + 1.0), x, x >= 1.0), 0.0, x <= -1.0); }
        case 14u: { return x * sigmoid_f(x); }
        case 15u: { return 0.5 * x * (1.0 + erf_f(x * 0.7071067811865476)); }
        case 16u: { return safe_tanh(x); }
        case 17u: { return sigmoid_f(x); }
        case 18u: { return clamp(0.5 * (x + 1.0), 0.0, 1.0); }
        case 19u: { return exp(x); }
        case 20u: { return hard_sigmoid_f(x); }
        case 21u: { return x * hard_sigmoid_f(x); }
        case 22u: { return clamp(x, -1.0, 1.0); }
        case 23u: { return x * safe_tanh(softplus_f(x)); }
        case 24u: { return -softplus_f(-x); }
        default: { return x; }
    }
}

fn activate4(v: vec4<f32>, kind: u32) -> vec4<f32> {
    return vec4<f32>(activate(v.x, kind), activate(v.y, kind), activate(v.z, kind), activate(v.w, kind));
}
