//! The layers the rules run on Winograd F(2x2,3x3) (3x3 stride-1, large maps, 64 filters or more
//! per group: ResNet50's first 3x3 stage, a batch of 8, a dilated layer, grouped), at their real
//! depth, against the CPU reference (f64) in both formats: within 2e-6 of the largest output
//! (measured 1.6-2.2e-7 here; the wide GEMM 3.7-4.6e-7),
//! host == resident, channels_first written by the kernel (no unpack pass), and the wide GEMM
//! on the same layer within the same bound.

mod common;

use common::TestRng;
use wgpu_conv2d::gpu::kernels::{igemm_subgroup, texture_weights};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, GpuContext, GpuOptions, Tensor};

struct Case {
    /// (N, H, W, C) whatever the format.
    input: [usize; 4],
    filters: usize,
    dilation: usize,
    groups: usize,
}

const CASES: [Case; 4] = [
    Case {
        input: [1, 56, 56, 64],
        filters: 64,
        dilation: 1,
        groups: 1,
    },
    Case {
        input: [8, 20, 20, 64],
        filters: 64,
        dilation: 1,
        groups: 1,
    },
    Case {
        input: [1, 60, 60, 32],
        filters: 64,
        dilation: 2,
        groups: 1,
    },
    Case {
        input: [1, 56, 56, 128],
        filters: 128,
        dilation: 1,
        groups: 2,
    },
];

fn layer(c: &Case, channels_first: bool, rng: &mut TestRng) -> Conv2d {
    let config = Conv2dConfig::builder(c.filters as i64, 3)
        .padding("same")
        .dilation_rate(c.dilation as i64)
        .groups(c.groups as i64)
        .data_format(if channels_first {
            "channels_first"
        } else {
            "channels_last"
        })
        .activation("relu")
        .build()
        .unwrap();
    let cin = c.input[3] / c.groups;
    let kernel = Tensor::new(
        [3, 3, cin, c.filters],
        (0..9 * cin * c.filters).map(|_| rng.sym()).collect(),
    )
    .unwrap();
    let bias = Tensor::new([c.filters], (0..c.filters).map(|_| rng.sym()).collect()).unwrap();
    let mut layer = Conv2d::new(config).unwrap();
    layer.set_weights(&[kernel, bias]).unwrap();
    layer
}

fn input(c: &Case, channels_first: bool, rng: &mut TestRng) -> Tensor {
    let [n, h, w, ch] = c.input;
    let shape = if channels_first { [n, ch, h, w] } else { [n, h, w, ch] };
    Tensor::new(shape, (0..n * h * w * ch).map(|_| rng.sym()).collect()).unwrap()
}

#[test]
fn winograd_layers_match_the_reference_at_depth() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx.clone());
    let gemm = GpuContext::new(&GpuOptions {
        algorithms: Some(vec![igemm_subgroup::WIDE_ID]),
        ..common::gpu::rules()
    })
    .unwrap();
    let gemm = Device::Gpu(gemm);
    let mut rng = TestRng(0x3A3);
    for (i, c) in CASES.iter().enumerate() {
        for channels_first in [false, true] {
            let layer = layer(c, channels_first, &mut rng);
            let x = input(c, channels_first, &mut rng);
            let plan = layer.plan_on(&device, x.shape()).unwrap().unwrap();
            // Adapters without 8-lane subgroups (GL here) run neither kernel.
            if ctx.caps().subgroup8 {
                assert_eq!(
                    plan.algorithm,
                    texture_weights::WINOGRAD_ID,
                    "case {i}: {}",
                    plan.describe()
                );
                // channels_first is written as it lies: no unpack pass.
                assert!(
                    plan.chunks.iter().all(|c| c.unpack.is_none()),
                    "case {i}: {}",
                    plan.describe()
                );
            }
            let want = layer.forward(&x).unwrap();
            let host = layer.forward_on(&device, &x).unwrap();
            let err = common::relative_error(&host, &want);
            assert!(
                err < 2e-6,
                "case {i} first={channels_first}: relative error {err:e} ({})",
                plan.describe()
            );
            let resident = common::gpu::forward_resident(&ctx, &layer, &x);
            assert_eq!(resident.data(), host.data(), "case {i}: host and resident differ");
            if ctx.caps().subgroup8 {
                let by_gemm = layer.forward_on(&gemm, &x).unwrap();
                let gemm_err = common::relative_error(&by_gemm, &want);
                assert!(gemm_err < 2e-6, "case {i}: wide GEMM relative error {gemm_err:e}");
            }
        }
    }
}
