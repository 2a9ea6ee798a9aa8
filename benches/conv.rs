//! Criterion regression benches: one shape per kernel the planner picks on this adapter
//! (implicit GEMM, channel-padded GEMM, depthwise), at a size that keeps `cargo bench` short.
//! The full comparison with the peers is `cargo run --release --example bench`.

use criterion::{criterion_group, criterion_main, Criterion};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, GpuTensor, Tensor};

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn layer(cin: usize, cout: usize, k: usize, stride: usize, groups: usize) -> Conv2d {
    let config = Conv2dConfig::builder(cout as i64, k as i64)
        .strides(stride as i64)
        .groups(groups as i64)
        .padding("same")
        .build()
        .expect("valid config");
    let kernel = Tensor::new([k, k, cin / groups, cout], random(k * k * cin / groups * cout, 1)).expect("shape");
    let bias = Tensor::new([cout], random(cout, 2)).expect("shape");
    Conv2d::with_weights(config, kernel, Some(bias)).expect("weights")
}

fn conv(c: &mut Criterion) {
    let Ok(Device::Gpu(ctx)) = Device::gpu() else {
        eprintln!("no GPU adapter: skipping the GPU benches");
        return;
    };
    let cases = [
        ("3x3_56x56x64", layer(64, 64, 3, 1, 1), [1, 56, 56, 64]),
        ("stem_7x7s2_112x112x3", layer(3, 64, 7, 2, 1), [1, 112, 112, 3]),
        ("depthwise_3x3_56x56x32", layer(32, 32, 3, 1, 32), [1, 56, 56, 32]),
    ];
    let mut group = c.benchmark_group("gpu");
    group.sample_size(10);
    for (name, layer, shape) in cases {
        let input = GpuTensor::upload(
            &ctx,
            &Tensor::new(shape, random(shape.iter().product(), 3)).expect("shape"),
        )
        .expect("upload");
        group.bench_function(name, |b| {
            b.iter(|| {
                layer.forward_gpu(&input).expect("forward");
                ctx.wait_idle().expect("sync");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, conv);
criterion_main!(benches);
