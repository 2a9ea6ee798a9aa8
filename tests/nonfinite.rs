//! The non-finite policy (TESTING.md B2-26): NaN and ±Inf propagate over the receptive-field
//! footprint exactly as in Keras, on the CPU path and on GPU calls with host data (routed to the CPU).

mod common;

use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Tensor};

fn layer() -> Conv2d {
    let config = Conv2dConfig::builder(2, 3).padding("same").build().unwrap();
    Conv2d::with_weights(
        config,
        Tensor::new([3, 3, 1, 2], vec![0.5; 18]).unwrap(),
        Some(Tensor::new([2], vec![0.1, -0.1]).unwrap()),
    )
    .unwrap()
}

/// A 7x7 input with `value` at (3, 2).
fn input(value: f32) -> Tensor {
    let mut x = vec![0.25f32; 49];
    x[3 * 7 + 2] = value;
    Tensor::new([1, 7, 7, 1], x).unwrap()
}

fn check_footprint(y: &Tensor, expect: impl Fn(f32) -> bool) {
    for oy in 0..7usize {
        for ox in 0..7usize {
            let inside = oy.abs_diff(3) <= 1 && ox.abs_diff(2) <= 1;
            for f in 0..2 {
                let v = y.data()[(oy * 7 + ox) * 2 + f];
                if inside {
                    assert!(expect(v), "({oy}, {ox}, {f}) = {v}");
                } else {
                    assert!(v.is_finite(), "({oy}, {ox}, {f}) = {v} outside the footprint");
                }
            }
        }
    }
}

#[test]
fn nan_and_inf_propagate_over_the_footprint_on_every_path() {
    let l = layer();
    let mut devices = vec![Device::Cpu];
    if let Some(ctx) = common::gpu::gpu() {
        devices.push(Device::Gpu(ctx));
    }
    for device in &devices {
        check_footprint(&l.forward_on(device, &input(f32::NAN)).unwrap(), f32::is_nan);
        check_footprint(&l.forward_on(device, &input(f32::INFINITY)).unwrap(), |v| {
            v == f32::INFINITY
        });
        check_footprint(&l.forward_on(device, &input(f32::NEG_INFINITY)).unwrap(), |v| {
            v == f32::NEG_INFINITY
        });
    }
}

#[test]
fn non_finite_weights_follow_the_same_policy() {
    let mut l = layer();
    let mut k = vec![0.5f32; 18];
    k[4 * 2] = f32::NAN; // the centre tap of filter 0
    l.set_weights(&[
        Tensor::new([3, 3, 1, 2], k).unwrap(),
        Tensor::new([2], vec![0.0, 0.0]).unwrap(),
    ])
    .unwrap();
    let x = input(1.0);
    let cpu = l.forward(&x).unwrap();
    assert!(
        cpu.data().iter().step_by(2).all(|v| v.is_nan()),
        "filter 0 reads its NaN tap everywhere"
    );
    assert!(cpu.data().iter().skip(1).step_by(2).all(|v| v.is_finite()));
    if let Some(ctx) = common::gpu::gpu() {
        let gpu = l.forward_on(&Device::Gpu(ctx), &x).unwrap();
        let same = gpu
            .data()
            .iter()
            .zip(cpu.data())
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
        assert!(same, "the GPU call follows the stated policy");
    }
}
