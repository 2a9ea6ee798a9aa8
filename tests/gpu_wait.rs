//! Every `WaitMode` gives the same results: polling first, blocking at once, or polling longer
//! than the work takes; a host call (upload, run, readback) and a resident chain alike.

mod common;

use std::time::Duration;

use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, GpuContext, GpuOptions, GpuTensor, Tensor, WaitMode};

fn layer(filters: usize, channels: usize, seed: u64) -> Conv2d {
    let config = Conv2dConfig::builder(filters as i64, 3)
        .padding("same")
        .build()
        .unwrap();
    let mut rng = common::TestRng(seed);
    let kernel: Vec<f32> = (0..9 * channels * filters).map(|_| rng.int(-3, 3) as f32).collect();
    let bias: Vec<f32> = (0..filters).map(|_| rng.int(-2, 2) as f32).collect();
    Conv2d::with_weights(
        config,
        Tensor::new([3, 3, channels, filters], kernel).unwrap(),
        Some(Tensor::new([filters], bias).unwrap()),
    )
    .unwrap()
}

#[test]
fn every_wait_mode_gives_the_reference_result() {
    if common::gpu::gpu().is_none() {
        return;
    }
    // Small integers: every partial sum is exact in f32, so the GPU must equal the reference.
    let mut rng = common::TestRng(7);
    let x = Tensor::new(
        [2, 20, 24, 8],
        (0..2 * 20 * 24 * 8).map(|_| rng.int(-4, 4) as f32).collect(),
    )
    .unwrap();
    let (first, second) = (layer(16, 8, 1), layer(8, 16, 2));
    let want = second.forward(&first.forward(&x).unwrap()).unwrap();
    for mode in [
        WaitMode::Auto,
        WaitMode::Block,
        WaitMode::Poll(Duration::ZERO),
        WaitMode::Poll(Duration::from_micros(20)),
        WaitMode::Poll(Duration::from_secs(10)),
    ] {
        let ctx = GpuContext::new(&GpuOptions {
            wait_mode: mode,
            ..common::gpu::rules()
        })
        .unwrap();
        ctx.set_nan_fill_outputs(true);
        let device = Device::Gpu(ctx.clone());
        let host = second
            .forward_on(&device, &first.forward_on(&device, &x).unwrap())
            .unwrap();
        assert_eq!(host.data(), want.data(), "{mode:?}: host calls");
        let resident = second
            .forward_gpu(&first.forward_gpu(&GpuTensor::upload(&ctx, &x).unwrap()).unwrap())
            .unwrap()
            .download()
            .unwrap();
        assert_eq!(resident.data(), want.data(), "{mode:?}: resident chain");
    }
}
