//! Kernels larger than one binding run as slices of their filters, on a device with tiny limits
//! (64 KiB per binding, NaN-prefilled outputs): host and resident calls against the CPU reference.

mod common;

use common::TestRng;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Error, Tensor};

struct Case {
    input: [usize; 4],
    filters: usize,
    kernel: usize,
    groups: usize,
    channels_first: bool,
    activation: &'static str,
    bias: bool,
}

fn layer(c: &Case, rng: &mut TestRng, integers: bool) -> Conv2d {
    let cin = if c.channels_first { c.input[1] } else { c.input[3] };
    let format = if c.channels_first {
        "channels_first"
    } else {
        "channels_last"
    };
    let config = Conv2dConfig::builder(c.filters as i64, c.kernel as i64)
        .padding("same")
        .groups(c.groups as i64)
        .data_format(format)
        .activation(c.activation)
        .use_bias(c.bias)
        .build()
        .unwrap();
    let value = |rng: &mut TestRng| if integers { rng.int(-2, 2) as f32 } else { rng.sym() };
    let len = c.kernel * c.kernel * cin / c.groups * c.filters;
    let k = Tensor::new(
        [c.kernel, c.kernel, cin / c.groups, c.filters],
        (0..len).map(|_| value(rng)).collect(),
    )
    .unwrap();
    let b = c
        .bias
        .then(|| Tensor::new([c.filters], (0..c.filters).map(|_| value(rng)).collect()).unwrap());
    Conv2d::with_weights(config, k, b).unwrap()
}

#[test]
fn kernels_over_the_binding_limit_run_as_filter_slices() {
    let Some(tiny) = common::gpu::tiny_gpu() else { return };
    let device = Device::Gpu(tiny.clone());
    let mut rng = TestRng(0xF17E);
    let cases = [
        // 3x3x64x40 = 23 040 values (90 KiB); integer data: exact.
        Case {
            input: [1, 9, 8, 64],
            filters: 40,
            kernel: 3,
            groups: 1,
            channels_first: false,
            activation: "relu",
            bias: true,
        },
        // Two groups of 50 filters, channels_first, softmax over the width after the merge.
        Case {
            input: [1, 64, 7, 6],
            filters: 100,
            kernel: 3,
            groups: 2,
            channels_first: true,
            activation: "softmax",
            bias: true,
        },
        // An odd 1x1 head: 512 x 37 filters, softmax over the channels after the merge.
        Case {
            input: [2, 3, 4, 512],
            filters: 37,
            kernel: 1,
            groups: 1,
            channels_first: false,
            activation: "softmax",
            bias: false,
        },
        // Four groups of 9 filters, an element-wise activation fused in each slice.
        Case {
            input: [1, 256, 5, 4],
            filters: 36,
            kernel: 3,
            groups: 4,
            channels_first: true,
            activation: "gelu",
            bias: true,
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        let integers = matches!(c.activation, "relu" | "linear");
        let layer = layer(c, &mut rng, integers);
        let described = layer.describe_plan(&device, &c.input).unwrap();
        assert!(described.contains("slices"), "case {i}: {described}");
        let plan = layer.plan_on(&device, &c.input).unwrap().unwrap();
        assert_ne!(plan.algorithm.0, "direct", "case {i}: {described}");
        let n: usize = c.input.iter().product();
        let x: Vec<f32> = (0..n)
            .map(|_| if integers { rng.int(-3, 3) as f32 } else { rng.sym() })
            .collect();
        let x = Tensor::new(c.input, x).unwrap();
        let want = layer.forward(&x).unwrap();
        let host = layer.forward_on(&device, &x).unwrap();
        let resident = common::gpu::forward_resident(&tiny, &layer, &x);
        assert_eq!(host.data(), resident.data(), "case {i}");
        if integers {
            assert_eq!(host.data(), want.data(), "case {i}");
        } else {
            let err = common::relative_error(&host, &want);
            assert!(err < 1e-5, "case {i}: relative error {err:e} ({described})");
        }
        // A second call reuses the slices (same result, no new uploads needed).
        assert_eq!(layer.forward_on(&device, &x).unwrap().data(), host.data(), "case {i}");
    }
    assert_eq!(tiny.uncaptured_errors(), 0);
}

#[test]
fn a_kernel_whose_single_filter_exceeds_the_binding_limit_is_refused_by_name() {
    let Some(tiny) = common::gpu::tiny_gpu() else { return };
    let device = Device::Gpu(tiny.clone());
    let c = Case {
        input: [1, 4, 4, 2048],
        filters: 2,
        kernel: 3,
        groups: 1,
        channels_first: false,
        activation: "linear",
        bias: false,
    };
    let layer = layer(&c, &mut TestRng(3), true);
    let x = Tensor::new(c.input, vec![1.0; 4 * 4 * 2048]).unwrap();
    match layer.forward_on(&device, &x) {
        Err(Error::Unsupported(message)) => assert!(message.contains("single filters per group"), "{message}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert_eq!(tiny.uncaptured_errors(), 0);
}
