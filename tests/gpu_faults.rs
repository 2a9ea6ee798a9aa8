//! GPU faults end in a clear error within a bounded time, never a hang or a panic.

mod common;

use std::time::{Duration, Instant};

use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Error, GpuContext, GpuOptions, Tensor};

fn layer(filters: usize, cin: usize) -> Conv2d {
    let config = Conv2dConfig::builder(filters as i64, 3)
        .padding("same")
        .build()
        .unwrap();
    let kernel = Tensor::new([3, 3, cin, filters], vec![0.25; 9 * cin * filters]).unwrap();
    Conv2d::with_weights(config, kernel, Some(Tensor::zeros([filters]).unwrap())).unwrap()
}

#[test]
fn no_adapter_is_an_error_and_auto_falls_back_to_cpu() {
    let options = GpuOptions {
        backends: Some(wgpu::Backends::empty()),
        ..GpuOptions::default()
    };
    assert!(matches!(GpuContext::new(&options), Err(Error::NoAdapter(_))));
    let named = GpuOptions {
        adapter_name: Some("no such adapter".into()),
        ..GpuOptions::default()
    };
    let err = GpuContext::new(&named).unwrap_err();
    assert!(
        matches!(err, Error::NoAdapter(ref m) if m.contains("no such adapter")),
        "{err}"
    );
    let device = Device::auto_with(&options);
    assert!(matches!(device, Device::Cpu));
    let l = layer(2, 1);
    let x = Tensor::new([1, 4, 4, 1], (0..16).map(|v| v as f32).collect()).unwrap();
    assert_eq!(l.forward_on(&device, &x).unwrap(), l.forward(&x).unwrap());
}

#[test]
fn device_request_above_the_adapter_fails_cleanly() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let limits = wgpu::Limits {
        max_storage_buffer_binding_size: u64::MAX / 2,
        ..wgpu::Limits::downlevel_defaults()
    };
    let err = GpuContext::new(&GpuOptions {
        limits: Some(limits),
        ..GpuOptions::default()
    })
    .unwrap_err();
    assert!(
        matches!(err, Error::Gpu(ref m) if m.contains("request_device")),
        "{err}"
    );
}

#[test]
fn lost_device_gives_device_lost_then_a_new_context_works() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions::default()).unwrap();
    let device = Device::Gpu(ctx.clone());
    let l = layer(4, 2);
    let x = Tensor::new([1, 8, 8, 2], vec![1.0; 128]).unwrap();
    let before = l.forward_on(&device, &x).unwrap();
    ctx.device().destroy();
    let start = Instant::now();
    let err = l.forward_on(&device, &x).unwrap_err();
    assert!(matches!(err, Error::DeviceLost(_)), "{err}");
    assert!(start.elapsed() < Duration::from_secs(10));
    // The layer recovers on a fresh context: weights are re-uploaded there.
    let fresh = Device::Gpu(GpuContext::new(&GpuOptions::default()).unwrap());
    assert_eq!(l.forward_on(&fresh, &x).unwrap(), before);
}

#[test]
fn poll_timeout_is_an_error_not_a_hang() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions {
        timeout: Duration::from_micros(1),
        ..GpuOptions::default()
    })
    .unwrap();
    let backend = ctx.adapter_info().backend;
    let l = layer(32, 16);
    let x = Tensor::new([1, 256, 256, 16], vec![0.5; 256 * 256 * 16]).unwrap();
    let start = Instant::now();
    match l.forward_on(&Device::Gpu(ctx), &x) {
        Err(Error::Timeout(_)) => {}
        // GL executes at submit, so the work is already done when the wait starts.
        Ok(y) if backend == wgpu::Backend::Gl => assert!(y == l.forward(&x).unwrap(), "GL result differs"),
        Ok(_) => panic!("{backend:?}: a 1 us wait on 151 MFLOP did not time out"),
        Err(e) => panic!("{backend:?}: {e}"),
    }
    assert!(start.elapsed() < Duration::from_secs(30));
}
