//! Half precision on the GPU: every registry algorithm, forced alone, in the float16 and bfloat16
//! policies (one sample each) against the f64 oracle on rounded operands, NaN-
//! prefilled; f16 storage where the adapter has SHADER_F16 (lavapipe does) and bf16 packed two to
//! a `u32`; half the bytes per tensor and per call; resident chains across policies.

mod common;

use common::TestRng;
use wgpu_conv2d::gpu::kernels::registry;
use wgpu_conv2d::gpu::ElementType;
use wgpu_conv2d::{Conv2d, Conv2dConfig, DataFormat, Device, FloatType, GpuOptions, GpuTensor, Padding, Tensor};

/// Largest difference in units of `dtype`'s ulp at `want`'s scale (inf where `want` has inf).
fn ulps(got: &Tensor, want: &Tensor, dtype: FloatType) -> f64 {
    let scale = want
        .data()
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs() as f64));
    let mut worst = 0.0f64;
    for (a, b) in got.data().iter().zip(want.data()) {
        if !b.is_finite() || !a.is_finite() {
            assert_eq!(a, b, "non-finite values differ");
            continue;
        }
        worst = worst.max((*a as f64 - *b as f64).abs());
    }
    worst / scale.max(1e-30) / dtype.epsilon()
}

/// A 3x3 `same` layer's arguments, one group, stride and dilation 1.
fn same_3x3(filters: u32, data_format: DataFormat) -> wgpu_conv2d::conv::ConvParams {
    wgpu_conv2d::conv::ConvParams {
        filters,
        kernel_size: [3, 3],
        strides: [1, 1],
        dilation_rate: [1, 1],
        padding: Padding::Same,
        groups: 1,
        data_format,
    }
}

fn layer(
    params: &wgpu_conv2d::conv::ConvParams,
    cin: usize,
    policy: &str,
    activation: &str,
    rng: &mut TestRng,
) -> Conv2d {
    let config = Conv2dConfig::builder(params.filters as i64, params.kernel_size)
        .strides(params.strides)
        .dilation_rate(params.dilation_rate)
        .padding(if params.padding == Padding::Same {
            "same"
        } else {
            "valid"
        })
        .groups(params.groups as i64)
        .data_format(if params.data_format == DataFormat::ChannelsFirst {
            "channels_first"
        } else {
            "channels_last"
        })
        .activation(activation)
        .dtype(policy)
        .build()
        .unwrap();
    let [kh, kw] = params.kernel_size.map(|k| k as usize);
    let (cg, f) = (cin / params.groups as usize, params.filters as usize);
    let k = Tensor::new([kh, kw, cg, f], (0..kh * kw * cg * f).map(|_| rng.sym()).collect()).unwrap();
    let b = Tensor::new([f], (0..f).map(|_| rng.sym() * 0.5).collect()).unwrap();
    Conv2d::with_weights(config, k, Some(b)).unwrap()
}

#[test]
fn every_registry_algorithm_matches_the_oracle_in_float16_and_bfloat16() {
    let Some(shared) = common::gpu::gpu() else { return };
    assert!(
        shared.caps().shader_f16,
        "lavapipe offers SHADER_F16; this adapter does not"
    );
    let mut rng = TestRng(0xF16);
    let mut worst = std::collections::BTreeMap::<(&str, &str), f64>::new();
    for algorithm in registry() {
        let ctx = wgpu_conv2d::GpuContext::new(&GpuOptions {
            algorithms: Some(vec![algorithm.id()]),
            ..Default::default()
        })
        .unwrap();
        ctx.set_nan_fill_outputs(true);
        let device = Device::Gpu(ctx.clone());
        // Two samples each: the first in float16, the second in bfloat16 (f16 pipelines compile
        // for seconds each on llvmpipe; the f32 sweep in gpu_conv covers every variant).
        let samples = algorithm.samples();
        let picked = [(0, 0), (samples.len().min(2) - 1, 1)];
        for (i, sample) in picked.iter().map(|&(at, policy)| (policy, samples[at])) {
            let params = sample.params;
            let first = params.data_format == DataFormat::ChannelsFirst;
            let cin = if first {
                sample.input_shape[1]
            } else {
                sample.input_shape[3]
            };
            let layer_g = wgpu_conv2d::Conv2dGeometry::new(&params, sample.input_shape).unwrap();
            let (_, g) = wgpu_conv2d::gpu::kernels::run_geometry(*algorithm, &layer_g);
            let policies = [("float16", ElementType::F16), ("mixed_bfloat16", ElementType::BF16)];
            for (policy, element) in [policies[i]] {
                if !algorithm.elements().contains(&element) {
                    continue; // float32 only (Winograd)
                }
                if !algorithm.supports(&g, ctx.caps(), element) {
                    assert!(wgpu_conv2d::gpu::kernels::declines_for_the_device(
                        *algorithm,
                        shared.caps()
                    ));
                    continue;
                }
                let activation = ["softmax", "gelu"][i];
                let layer = layer(&params, cin, policy, activation, &mut rng);
                let n: usize = sample.input_shape.iter().product();
                let x = Tensor::new(sample.input_shape, (0..n).map(|_| rng.sym() * 2.0).collect()).unwrap();
                let plan = layer.plan_on(&device, &sample.input_shape).unwrap().unwrap();
                assert_eq!(plan.algorithm, algorithm.id(), "{sample:?}: {}", plan.describe());
                assert_eq!(plan.element, element, "{policy}: {sample:?}");
                let dtype = layer.config().dtype.compute_dtype();
                let got = layer.forward_on(&device, &x).unwrap();
                let e = ulps(&got, &layer.forward(&x).unwrap(), dtype);
                assert!(
                    e <= 1.0,
                    "{} {policy} {sample:?} {activation}: {e:.2} ulp from the oracle",
                    algorithm.name()
                );
                let w = worst.entry((algorithm.name(), policy)).or_default();
                *w = w.max(e);
            }
        }
        assert_eq!(ctx.uncaptured_errors(), 0);
    }
    println!("worst ulp against the oracle per algorithm and policy: {worst:?}");
}

#[test]
fn float16_tensors_take_half_the_bytes_and_chains_convert_between_policies() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let mut rng = TestRng(0x4A1F);
    let x = Tensor::new([1, 12, 10, 8], (0..960).map(|_| rng.sym() * 4.0).collect()).unwrap();
    let f32_in = GpuTensor::upload(&ctx, &x).unwrap();
    let f16_in = GpuTensor::upload_as(&ctx, &x, ElementType::F16).unwrap();
    assert_eq!(f16_in.element_type(), ElementType::F16);
    assert_eq!(f16_in.values_dtype(), FloatType::Float16);
    assert!(f16_in.buffer().size() * 2 <= f32_in.buffer().size() + 16);
    let params = |filters| same_3x3(filters, DataFormat::ChannelsLast);
    // float16 -> mixed_bfloat16 -> float32 -> mixed_float16: each layer casts its input as Keras does.
    let layers = [
        layer(&params(8), 8, "float16", "relu", &mut rng),
        layer(&params(8), 8, "mixed_bfloat16", "tanh", &mut rng),
        layer(&params(8), 8, "float32", "linear", &mut rng),
        layer(&params(4), 8, "mixed_float16", "softmax", &mut rng),
    ];
    let cpu = layers.iter().fold(x.clone(), |t, l| l.forward(&t).unwrap());
    let device = Device::Gpu(ctx.clone());
    let host = layers.iter().fold(x.clone(), |t, l| l.forward_on(&device, &t).unwrap());
    for start in [f32_in, f16_in] {
        let mut t = start;
        for l in &layers {
            t = l.forward_gpu(&t).unwrap();
            let dtype = l.config().dtype.compute_dtype();
            assert_eq!(t.values_dtype(), dtype);
            let want = match dtype {
                FloatType::Float16 => ElementType::F16,
                FloatType::BFloat16 => ElementType::BF16,
                FloatType::Float32 => ElementType::F32,
            };
            assert_eq!(t.element_type(), want);
        }
        let resident = t.download().unwrap();
        assert_eq!(resident.data(), host.data(), "resident and host chains differ");
    }
    // Each layer's GPU output is within 1 ulp of the oracle; through four layers the chain may drift a little.
    let e = ulps(&host, &cpu, FloatType::Float16);
    assert!(e <= 4.0, "{e:.2} ulp from the CPU chain");
    assert_eq!(ctx.uncaptured_errors(), 0);
}

/// An input value past float16's range becomes inf when Keras casts it: the call must then take the
/// CPU path (WGSL assumes finite math) and propagate inf and NaN exactly as the reference does.
/// Every half policy moves and holds half the bytes of float32 in a call: uploads, readback and
/// tensor memory, counted on a context of its own (both data formats; 5 filters, so bf16's
/// half-word stores meet in words).
#[test]
fn half_policies_halve_the_bytes_of_a_call() {
    if common::gpu::gpu().is_none() {
        return;
    }
    for format in [DataFormat::ChannelsLast, DataFormat::ChannelsFirst] {
        let params = same_3x3(5, format);
        let shape = if format == DataFormat::ChannelsLast {
            [1, 20, 18, 8]
        } else {
            [1, 8, 20, 18]
        };
        let mut rng = TestRng(0xB16);
        let x = Tensor::new(shape, (0..2880).map(|_| rng.sym() * 3.0).collect()).unwrap();
        let mut bytes = Vec::new();
        for policy in ["float32", "mixed_float16", "float16", "mixed_bfloat16", "bfloat16"] {
            let ctx = wgpu_conv2d::GpuContext::new(&GpuOptions::default()).unwrap();
            let device = Device::Gpu(ctx.clone());
            let l = layer(&params, 8, policy, "tanh", &mut TestRng(7));
            l.forward_on(&device, &x).unwrap(); // weights uploaded, pipelines built
            let before = ctx.stats();
            let got = l.forward_on(&device, &x).unwrap();
            let after = ctx.stats();
            let dtype = l.config().dtype.compute_dtype();
            let e = ulps(&got, &l.forward(&x).unwrap(), dtype);
            // float32 sums differ in order from the f64 oracle: its usual 1e-5 at the output's scale.
            let limit = if dtype == FloatType::Float32 {
                1e-5 / dtype.epsilon()
            } else {
                1.0
            };
            assert!(e <= limit, "{policy} {format:?}: {e:.2} ulp from the oracle");
            bytes.push((
                policy,
                after.bytes_uploaded - before.bytes_uploaded,
                after.bytes_read_back - before.bytes_read_back,
                after.tensor_bytes_acquired - before.tensor_bytes_acquired,
            ));
        }
        let (_, up, back, held) = bytes[0];
        for &(policy, u, b, h) in &bytes[1..] {
            assert!(
                u * 2 <= up + 16 && b * 2 <= back + 16 && h * 2 <= held + 64,
                "{format:?} {policy}: {bytes:?}"
            );
            assert!(u > 0 && b > 0 && h > 0, "{policy}: nothing counted");
        }
    }
}

#[test]
fn float16_input_past_the_range_propagates_inf_as_the_reference_does() {
    if common::gpu::gpu().is_none() {
        return;
    }
    // A context of its own: its traffic counters see this test's calls only.
    let ctx = wgpu_conv2d::GpuContext::new(&GpuOptions::default()).unwrap();
    let mut rng = TestRng(0x0F);
    let params = same_3x3(4, DataFormat::ChannelsLast);
    let layer = layer(&params, 4, "mixed_float16", "relu", &mut rng);
    let mut values: Vec<f32> = (0..100).map(|_| rng.sym()).collect();
    values[37] = 70000.0; // finite in f32, inf in float16
    let x = Tensor::new([1, 5, 5, 4], values).unwrap();
    let want = layer.forward(&x).unwrap();
    assert!(
        want.data().iter().any(|v| !v.is_finite()),
        "the reference must overflow"
    );
    let uploaded = ctx.stats().bytes_uploaded;
    let got = layer.forward_on(&Device::Gpu(ctx.clone()), &x).unwrap();
    assert_eq!(ctx.stats().bytes_uploaded, uploaded, "the call must not run on the GPU");
    for (a, b) in got.data().iter().zip(want.data()) {
        assert!(a == b || (a.is_nan() && b.is_nan()), "{a} vs {b}");
    }
}
