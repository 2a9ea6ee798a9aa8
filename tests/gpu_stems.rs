//! Strided layers with few channels (RGB, grey and two-channel stems) run with their kernel
//! columns folded into channels (`kernels::layout::fold`) where that saves channel vec4s, padded
//! to 4 channels elsewhere, in both formats, against the CPU
//! reference (f64): integer data exact, float data within 1e-5, host == resident, and split into
//! row bands on a device with tiny limits (each band folded on its own).

mod common;

use common::TestRng;
use wgpu_conv2d::gpu::kernels::direct;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Tensor};

struct Stem {
    /// (N, H, W, C) whatever the format.
    input: [usize; 4],
    filters: usize,
    kernel: [usize; 2],
    strides: [usize; 2],
    padding: &'static str,
    channels_first: bool,
    /// The plan folds it (fewer channel vec4s per kernel row folded than padded to 4).
    folds: bool,
}

fn layer(s: &Stem, rng: &mut TestRng, integers: bool) -> Conv2d {
    let config = Conv2dConfig::builder(s.filters as i64, [s.kernel[0] as i64, s.kernel[1] as i64])
        .strides([s.strides[0] as i64, s.strides[1] as i64])
        .padding(s.padding)
        .data_format(if s.channels_first {
            "channels_first"
        } else {
            "channels_last"
        })
        .activation("relu")
        .build()
        .unwrap();
    let value = |rng: &mut TestRng| if integers { rng.int(-2, 2) as f32 } else { rng.sym() };
    let c = s.input[3];
    let k = Tensor::new(
        [s.kernel[0], s.kernel[1], c, s.filters],
        (0..s.kernel[0] * s.kernel[1] * c * s.filters)
            .map(|_| value(rng))
            .collect(),
    )
    .unwrap();
    let b = Tensor::new([s.filters], (0..s.filters).map(|_| value(rng)).collect()).unwrap();
    Conv2d::with_weights(config, k, Some(b)).unwrap()
}

fn stems() -> Vec<Stem> {
    let mut out = Vec::new();
    for channels_first in [false, true] {
        let stem = |input, filters, kernel, strides, padding, folds| Stem {
            input,
            filters,
            kernel,
            strides,
            padding,
            channels_first,
            folds,
        };
        // ResNet's 7x7/2 (after ZeroPadding2D: valid), a grey 5x5/2 with 6 filters (padded), a
        // 2-channel 2x5 kernel strided along the columns only, a grey 3x3/2; MobileNet's 3x3/2
        // same and Inception's 3x3/2 valid on an odd map (3 channel vec4s a row either way: padded).
        out.push(stem([1, 38, 38, 3], 64, [7, 7], [2, 2], "valid", true));
        out.push(stem([1, 21, 19, 1], 6, [5, 5], [2, 2], "same", true));
        out.push(stem([1, 9, 23, 2], 8, [2, 5], [1, 3], "same", true));
        out.push(stem([2, 15, 16, 1], 12, [3, 3], [2, 2], "same", true));
        out.push(stem([2, 32, 32, 3], 32, [3, 3], [2, 2], "same", false));
        out.push(stem([1, 37, 37, 3], 32, [3, 3], [2, 2], "valid", false));
    }
    out
}

fn input(s: &Stem, rng: &mut TestRng, integers: bool) -> Tensor {
    let [n, h, w, c] = s.input;
    let shape = if s.channels_first { [n, c, h, w] } else { [n, h, w, c] };
    let data = (0..n * h * w * c)
        .map(|_| if integers { rng.int(-3, 3) as f32 } else { rng.sym() })
        .collect();
    Tensor::new(shape, data).unwrap()
}

#[test]
fn strided_few_channel_layers_fold_their_kernel_columns() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx.clone());
    let mut rng = TestRng(0x57E5);
    for (i, s) in stems().iter().enumerate() {
        for integers in [true, false] {
            let layer = layer(s, &mut rng, integers);
            let x = input(s, &mut rng, integers);
            let plan = layer.plan_on(&device, x.shape()).unwrap().unwrap();
            let described = plan.describe();
            // The vec4 kernels read a folded layer; the direct kernel (dense layers on an adapter
            // without 8-lane subgroups, GL here) reads every layer as it is.
            if plan.algorithm != direct::ID {
                assert_eq!(described.contains("folded"), s.folds, "case {i}: {described}");
            }
            let want = layer.forward(&x).unwrap();
            let host = layer.forward_on(&device, &x).unwrap();
            if integers {
                assert_eq!(host.data(), want.data(), "case {i}: {described}");
            } else {
                let err = common::relative_error(&host, &want);
                assert!(err < 1e-5, "case {i}: relative error {err:e} ({described})");
            }
            let resident = common::gpu::forward_resident(&ctx, &layer, &x);
            assert_eq!(resident.data(), host.data(), "case {i}");
        }
    }
    assert_eq!(ctx.uncaptured_errors(), 0);
}

/// On 64 KiB bindings the larger stems split into row bands, each folded (or packed) from its
/// own input rows.
#[test]
fn folded_stems_split_into_row_bands_exactly() {
    let Some(tiny) = common::gpu::tiny_gpu() else { return };
    let device = Device::Gpu(tiny.clone());
    let mut rng = TestRng(0xBA2D);
    for (i, s) in stems().iter().enumerate().filter(|(_, s)| s.input[1] >= 32) {
        let layer = layer(s, &mut rng, true);
        let x = input(s, &mut rng, true);
        let plan = layer.plan_on(&device, x.shape()).unwrap().unwrap();
        if plan.algorithm != direct::ID {
            assert!(plan.chunks.len() > 1, "case {i}: {}", plan.describe());
        }
        assert_eq!(
            layer.forward_on(&device, &x).unwrap().data(),
            layer.forward(&x).unwrap().data(),
            "case {i}"
        );
    }
    assert_eq!(tiny.uncaptured_errors(), 0);
}
