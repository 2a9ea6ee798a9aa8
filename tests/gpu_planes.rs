//! channels_first layers as MobileNetV2 and EfficientNet have them (1x1 convolutions, depthwise
//! layers of odd and even widths, depth multipliers, squeeze-excite 1x1 maps) run with no layout
//! pass: the planes kernels read and write the layer's own layout, and a map of one pixel runs as
//! its channels_last twin. Each against the CPU reference (f64), NaN-prefilled outputs, host and
//! resident calls.

mod common;

use common::TestRng;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Tensor};

struct Case {
    /// (N, C, H, W).
    input: [usize; 4],
    filters: usize,
    kernel: usize,
    strides: usize,
    groups: usize,
    padding: &'static str,
    activation: &'static str,
    /// The algorithm the planner must pick, or "twin" for a map of one pixel.
    runs_on: &'static str,
}

fn layer(c: &Case, rng: &mut TestRng) -> Conv2d {
    let cin = c.input[1];
    let config = Conv2dConfig::builder(c.filters as i64, c.kernel as i64)
        .strides(c.strides as i64)
        .padding(c.padding)
        .groups(c.groups as i64)
        .data_format("channels_first")
        .activation(c.activation)
        .build()
        .unwrap();
    let len = c.kernel * c.kernel * cin / c.groups * c.filters;
    let k = Tensor::new(
        [c.kernel, c.kernel, cin / c.groups, c.filters],
        (0..len).map(|_| rng.sym()).collect(),
    )
    .unwrap();
    let b = Tensor::new([c.filters], (0..c.filters).map(|_| rng.sym()).collect()).unwrap();
    Conv2d::with_weights(config, k, Some(b)).unwrap()
}

fn case(
    input: [usize; 4],
    filters: usize,
    kernel: usize,
    strides: usize,
    depthwise: bool,
    runs_on: &'static str,
) -> Case {
    Case {
        input,
        filters,
        kernel,
        strides,
        groups: if depthwise { input[1] } else { 1 },
        padding: "same",
        activation: "relu6",
        runs_on,
    }
}

#[test]
fn channels_first_mobile_layers_run_without_layout_passes() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx.clone());
    let mut rng = TestRng(0x91A4E5);
    let cases = [
        // Expand and project 1x1 layers: planes of whole vec4s (28x28, 14x14), then of 49 values.
        case([1, 16, 28, 28], 96, 1, 1, false, "pointwise_planes_texture"),
        case([2, 144, 14, 14], 24, 1, 1, false, "pointwise_planes_texture"),
        case([1, 32, 7, 7], 160, 1, 1, false, "pointwise_planes_texture"),
        // Depthwise: an odd width at stride 2 (ZeroPadding2D's 29x29), even 3x3 and 5x5 at stride
        // 1, an odd width at stride 1, a depth multiplier of 2.
        Case {
            padding: "valid",
            ..case([1, 96, 29, 29], 96, 3, 2, true, "depthwise_planes")
        },
        case([1, 144, 28, 28], 144, 3, 1, true, "depthwise_planes"),
        case([2, 48, 14, 14], 48, 5, 1, true, "depthwise_planes"),
        case([1, 40, 15, 15], 40, 3, 1, true, "depthwise_planes"),
        case([1, 8, 12, 13], 16, 3, 1, true, "depthwise_planes"),
        // Squeeze-excite 1x1 convolutions on 1x1 maps, 6 filters (padded in the twin).
        Case {
            activation: "swish",
            ..case([2, 96, 1, 1], 4, 1, 1, false, "twin")
        },
        Case {
            activation: "sigmoid",
            ..case([2, 4, 1, 1], 96, 1, 1, false, "twin")
        },
        case([3, 144, 1, 1], 6, 1, 1, false, "twin"),
    ];
    for (i, c) in cases.iter().enumerate() {
        let layer = layer(c, &mut rng);
        let x = Tensor::new(c.input, (0..c.input.iter().product()).map(|_| rng.sym()).collect()).unwrap();
        let plan = layer.plan_on(&device, &c.input).unwrap().unwrap();
        let described = plan.describe();
        // The dense cases run the subgroup GEMMs; without 8-lane subgroups (GL) only the values
        // are checked for them. Only filters padded to vec4s (6 -> 8) leave a pass, which drops
        // the padding.
        if c.runs_on == "depthwise_planes" || ctx.caps().subgroup8 {
            for chunk in &plan.chunks {
                assert!(chunk.pack.is_none(), "case {i}: an input pass runs: {described}");
                assert_eq!(chunk.unpack.is_some(), c.filters % 4 != 0, "case {i}: {described}");
            }
            if c.runs_on == "twin" {
                assert!(described.contains("one pixel per image"), "case {i}: {described}");
            } else {
                assert_eq!(plan.algorithm.0, c.runs_on, "case {i}: {described}");
            }
        }
        let want = layer.forward(&x).unwrap();
        let host = layer.forward_on(&device, &x).unwrap();
        assert_eq!(host.shape(), want.shape(), "case {i}");
        let err = common::relative_error(&host, &want);
        assert!(err < 1e-5, "case {i}: relative error {err:e} ({described})");
        let resident = common::gpu::forward_resident(&ctx, &layer, &x);
        assert_eq!(resident.data(), host.data(), "case {i}");
    }
    assert_eq!(ctx.uncaptured_errors(), 0);
}

/// A softmax over a channels_first layer's last axis acts on its width (here of one value), not
/// on the channels, so a one-pixel map with softmax is not run as its channels_last twin.
#[test]
fn one_pixel_softmax_keeps_the_width_axis() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx.clone());
    let mut rng = TestRng(0x50F7);
    let c = Case {
        activation: "softmax",
        ..case([2, 12, 1, 1], 8, 1, 1, false, "")
    };
    let layer = layer(&c, &mut rng);
    let x = Tensor::new(c.input, (0..24).map(|_| rng.sym()).collect()).unwrap();
    let described = layer.describe_plan(&device, &c.input).unwrap();
    assert!(!described.contains("one pixel per image"), "{described}");
    let got = layer.forward_on(&device, &x).unwrap();
    assert_eq!(got.shape(), &[2, 8, 1, 1]);
    // Softmax over one value is 1, whatever the convolution gave.
    assert!(got.data().iter().all(|v| *v == 1.0), "{:?}", got.data());
    assert_eq!(layer.forward(&x).unwrap().data(), got.data());
}
