//! Load (TESTING.md B4): repeated calls, shared devices and layers across threads, a long chain.

mod common;

use std::sync::Arc;

use common::TestRng;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, GpuContext, GpuTensor, Tensor};

fn random_layer(rng: &mut TestRng, cin: usize, f: usize, k: usize, stride: usize, groups: usize, act: &str) -> Conv2d {
    let config = Conv2dConfig::builder(f as i64, k as i64)
        .strides(stride as i64)
        .padding("same")
        .groups(groups as i64)
        .activation(act)
        .build()
        .unwrap();
    let kernel = Tensor::new(
        [k, k, cin / groups, f],
        (0..k * k * cin / groups * f).map(|_| rng.sym() * 0.5).collect(),
    )
    .unwrap();
    let bias = Tensor::new([f], (0..f).map(|_| rng.sym() * 0.1).collect()).unwrap();
    Conv2d::with_weights(config, kernel, Some(bias)).unwrap()
}

#[test]
fn layers_contexts_and_tensors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Conv2d>();
    assert_send_sync::<GpuContext>();
    assert_send_sync::<GpuTensor>();
    assert_send_sync::<Device>();
    assert_send_sync::<wgpu_conv2d::Error>();
}

#[test]
fn thousand_calls_are_bitwise_identical_with_flat_resource_counts() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&wgpu_conv2d::GpuOptions::default()).unwrap(); // its own counters
    let device = Device::Gpu(ctx.clone());
    let mut rng = TestRng(0x1000);
    let layer = random_layer(&mut rng, 8, 8, 3, 1, 1, "relu");
    let x = Tensor::new([1, 12, 12, 8], (0..12 * 12 * 8).map(|_| rng.sym()).collect()).unwrap();
    let first = layer.forward_on(&device, &x).unwrap();
    ctx.wait_idle().unwrap();
    let baseline = common::live_resources(&ctx);
    assert!(
        baseline[0] > 0,
        "wgpu counters are not enabled: the test could not fail"
    );
    let warm = ctx.stats();
    let mut times = Vec::new();
    for i in 0..1000 {
        let t = std::time::Instant::now();
        let y = layer.forward_on(&device, &x).unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert!(y == first, "call {i} differs from the first");
    }
    // Steady state: every buffer and bind group of the 1000 calls was a reused one.
    let steady = ctx.stats();
    assert_eq!(
        (steady.buffers_created, steady.bind_groups_created),
        (warm.buffers_created, warm.bind_groups_created),
        "calls after the first allocated: {warm:?} -> {steady:?}"
    );
    assert!(warm.buffers_created > 0 && warm.bind_groups_created > 0, "{warm:?}");
    ctx.wait_idle().unwrap();
    assert_eq!(
        common::live_resources(&ctx),
        baseline,
        "buffers, bind groups, pipelines, buffer memory"
    );
    let p99 = |s: &[f64]| {
        let mut v = s.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() * 99 / 100]
    };
    let (early, late) = (p99(&times[..100]), p99(&times[900..]));
    // Printed, not asserted: the project shows speed with benchmarks, never timed tests (other
    // tests of this binary run in parallel and move these numbers).
    println!("p99 first 10%: {:.3} ms, last 10%: {:.3} ms", early * 1e3, late * 1e3);
}

#[test]
fn threads_sharing_one_device_and_one_layer_match_one_thread() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx);
    let mut rng = TestRng(0x7EAD);
    let layers: Vec<Arc<Conv2d>> = (0..8)
        .map(|i| Arc::new(random_layer(&mut rng, 4, 8, 3, 1 + i % 2, 1 + (i % 2) * 3, "gelu")))
        .collect();
    let inputs: Vec<Tensor> = (0..8)
        .map(|_| Tensor::new([2, 10, 9, 4], (0..720).map(|_| rng.sym()).collect()).unwrap())
        .collect();
    let single: Vec<Tensor> = layers
        .iter()
        .zip(&inputs)
        .map(|(l, x)| l.forward_on(&device, x).unwrap())
        .collect();
    for threads in [2usize, 4, 8] {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (layer, x, device) = (layers[t].clone(), &inputs[t], &device);
                    s.spawn(move || (0..5).map(|_| layer.forward_on(device, x).unwrap()).collect::<Vec<_>>())
                })
                .collect();
            for (t, h) in handles.into_iter().enumerate() {
                for y in h.join().unwrap() {
                    assert!(y == single[t], "{threads} threads: thread {t} differs");
                }
            }
        });
    }
    // Four threads sharing one layer (its GPU weight cache included).
    let shared = Arc::new(random_layer(&mut rng, 4, 8, 3, 1, 1, "tanh"));
    let want = shared.forward_on(&device, &inputs[0]).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (layer, device, x, want) = (shared.clone(), &device, &inputs[0], &want);
            s.spawn(move || {
                for _ in 0..5 {
                    assert!(layer.forward_on(device, x).unwrap() == *want);
                }
            });
        }
    });
}

#[test]
fn fifty_layer_chain_checked_layer_by_layer() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx);
    let mut rng = TestRng(0x50);
    // The standard shapes' kinds at a quarter of their spatial size (CI time on lavapipe): stem 7x7/2,
    // 3x3, 1x1, depthwise, grouped 32, dilated, cycled through 50 layers.
    let mut x = Tensor::new([1, 56, 56, 4], (0..56 * 56 * 4).map(|_| rng.sym()).collect()).unwrap();
    let (mut worst, mut checked) = (0.0f64, 0);
    for i in 0..50 {
        let c = *x.shape().last().unwrap();
        let h = x.shape()[1];
        let layer = match i % 6 {
            0 if h >= 14 => random_layer(&mut rng, c, 32, 7, 2, 1, "relu"),
            1 => random_layer(&mut rng, c, 32, 3, 1, 1, "relu"),
            2 => random_layer(&mut rng, c, 64, 1, 1, 1, "linear"),
            3 => random_layer(&mut rng, c, c, 3, 1, c, "relu6"),
            4 => random_layer(&mut rng, c, 64, 3, 1, 32.min(c), "silu"),
            _ => {
                let config = Conv2dConfig::builder(32, 3)
                    .padding("same")
                    .dilation_rate(2)
                    .activation("tanh")
                    .use_bias(false)
                    .build()
                    .unwrap();
                let kernel = Tensor::new([3, 3, c, 32], (0..9 * c * 32).map(|_| rng.sym() * 0.2).collect()).unwrap();
                Conv2d::with_weights(config, kernel, None).unwrap()
            }
        };
        let y = layer.forward_on(&device, &x).unwrap();
        // Teacher forcing: the CPU reference runs on the same (GPU-produced) input.
        let want = layer.forward(&x).unwrap();
        let err = common::relative_error(&y, &want);
        assert!(err < 1e-5, "layer {i}: relative error {err:e}");
        worst = worst.max(err);
        checked += 1;
        x = y;
    }
    println!("{checked} layers; worst per-layer relative error {worst:e}");
}

#[test]
fn five_hundred_random_shapes_keep_caches_bounded_and_memory_returns_to_baseline() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&wgpu_conv2d::GpuOptions::default()).unwrap();
    let device = Device::Gpu(ctx.clone());
    // Baseline after one call: wgpu holds a transient buffer right after device creation.
    let warm = random_layer(&mut TestRng(1), 4, 4, 3, 1, 1, "linear");
    warm.forward_on(&device, &Tensor::zeros([1, 4, 4, 4]).unwrap()).unwrap();
    drop(warm);
    ctx.wait_idle().unwrap();
    let baseline = common::live_resources(&ctx);
    let mut rng = TestRng(0x500);
    let mut ran = 0;
    {
        let mut layers = Vec::new();
        let mut choices = std::collections::HashMap::new();
        for _ in 0..500 {
            let mut p = common::oracle::Problem::random(&mut rng, 1);
            // Square kernels and strides, no dilation: every size and channel count still varies,
            // while the generated blocked kernels (one per kernel size and stride, seconds each to
            // compile on llvmpipe) stay few enough for the suite's time.
            (p.kw, p.sw, p.dh, p.dw) = (p.kh, p.sh, 1, 1);
            let Ok(config) = p.config(rng.int(0, 1) == 1, true, "relu") else {
                continue;
            };
            let k = Tensor::new(
                [p.kh, p.kw, p.c / p.groups, p.f],
                (0..p.kh * p.kw * p.c / p.groups * p.f).map(|_| rng.sym()).collect(),
            )
            .unwrap();
            let b = Tensor::new([p.f], (0..p.f).map(|_| rng.sym()).collect()).unwrap();
            let layer = Conv2d::with_weights(config, k, Some(b)).unwrap();
            let shape = if layer.config().data_format == wgpu_conv2d::DataFormat::ChannelsFirst {
                [p.n, p.c, p.h, p.w]
            } else {
                [p.n, p.h, p.w, p.c]
            };
            let x = Tensor::new(shape, (0..p.n * p.h * p.w * p.c).map(|_| rng.sym()).collect()).unwrap();
            if layer.forward_on(&device, &x).is_ok() {
                ran += 1;
                let plan = layer.plan_on(&device, x.shape()).unwrap().unwrap();
                *choices.entry((plan.algorithm, plan.variant)).or_insert(0usize) += 1;
            }
            layers.push(layer); // weights stay resident while the layers live
        }
        // One pipeline per kernel variant (the tiled depthwise/grouped kernels have one per kernel
        // size, stride and dilation), plus the passes' few variants (pack, unpack, last axis); never one per
        // shape: variants are shared by shapes of other sizes.
        let most_shared = choices.values().copied().max().unwrap_or(0);
        let passes: usize = wgpu_conv2d::gpu::kernels::passes()
            .iter()
            .map(|p| p.variants().len())
            .sum();
        assert!(
            ctx.pipeline_count() <= choices.len() + passes && choices.len() < ran && most_shared >= 20,
            "{} pipelines for {ran} shapes and {} kernel choices (the most shared serves {most_shared})",
            ctx.pipeline_count(),
            choices.len()
        );
    }
    ctx.wait_idle().unwrap();
    // Idle buffers are kept for reuse, within the pool's cap, until released.
    let pooled = ctx.stats().idle_buffer_bytes;
    assert!(
        pooled <= wgpu_conv2d::GpuOptions::default().pool_bytes,
        "{pooled} idle bytes"
    );
    ctx.release_cached_buffers();
    assert_eq!(ctx.stats().idle_buffer_bytes, 0);
    // Buffers, bind groups and buffer memory back to (or below) the baseline; pipelines stay
    // cached by design and are bounded above.
    let after = common::live_resources(&ctx);
    for i in [0, 1, 3] {
        assert!(
            after[i] <= baseline[i],
            "GPU resources above baseline after the layers dropped: {after:?} vs {baseline:?}"
        );
    }
    println!("{ran} shapes ran; {} pipelines", ctx.pipeline_count());
    assert!(ran > 300);
}
