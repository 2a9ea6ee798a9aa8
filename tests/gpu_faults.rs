//! GPU faults end in a clear error within a bounded time, never a hang or a panic.

mod common;

use std::time::{Duration, Instant};

use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Error, GpuContext, GpuOptions, Tensor, WaitMode};

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
        matches!(err, Error::RequestDevice { .. }) && err.to_string().contains("request_device"),
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
    assert!(matches!(err, Error::DeviceLost { .. }), "{err}");
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
    // Blocking at once, and polling for longer than the timeout: the timeout bounds both.
    for wait_mode in [WaitMode::Block, WaitMode::Poll(Duration::from_secs(10))] {
        let ctx = GpuContext::new(&GpuOptions {
            timeout: Duration::from_micros(1),
            wait_mode,
            ..GpuOptions::default()
        })
        .unwrap();
        let backend = ctx.adapter_info().backend;
        let l = layer(32, 16);
        let x = Tensor::new([1, 256, 256, 16], vec![0.5; 256 * 256 * 16]).unwrap();
        let start = Instant::now();
        match l.forward_on(&Device::Gpu(ctx), &x) {
            Err(Error::Timeout { .. }) => {}
            // GL executes at submit, so the work is already done when the wait starts.
            Ok(y) if backend == wgpu::Backend::Gl => assert!(y == l.forward(&x).unwrap(), "GL result differs"),
            Ok(_) => panic!("{backend:?} {wait_mode:?}: a 1 us wait on 151 MFLOP did not time out"),
            Err(e) => panic!("{backend:?} {wait_mode:?}: {e}"),
        }
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}

#[test]
fn injected_out_of_memory_is_an_error_then_the_next_call_works_without_leaks() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions::default()).unwrap();
    let device = Device::Gpu(ctx.clone());
    let l = layer(4, 2);
    let x = Tensor::new([1, 8, 8, 2], (0..128).map(|v| v as f32 / 64.0).collect()).unwrap();
    let want = l.forward_on(&device, &x).unwrap();
    ctx.wait_idle().unwrap();
    let baseline = common::live_resources(&ctx);
    ctx.inject_fault(wgpu_conv2d::gpu::Fault::OutOfMemory);
    let err = l.forward_on(&device, &x).unwrap_err();
    assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    ctx.wait_idle().unwrap();
    assert_eq!(
        common::live_resources(&ctx),
        baseline,
        "the failed call left buffers behind"
    );
    assert_eq!(l.forward_on(&device, &x).unwrap(), want);
}

#[test]
fn an_invalid_dispatch_is_reported_with_wgpu_message_and_never_reaches_the_uncaptured_handler() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions::default()).unwrap();
    let device = Device::Gpu(ctx.clone());
    let l = layer(4, 2);
    let x = Tensor::new([1, 8, 8, 2], vec![0.5; 128]).unwrap();
    let want = l.forward_on(&device, &x).unwrap();
    ctx.inject_fault(wgpu_conv2d::gpu::Fault::InvalidDispatch);
    let err = l.forward_on(&device, &x).unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref source, .. }
            if source.to_string().to_lowercase().contains("dispatch") || source.to_string().contains("limit")),
        "{err}"
    );
    assert_eq!(ctx.uncaptured_errors(), 0);
    assert_eq!(l.forward_on(&device, &x).unwrap(), want, "the device stays usable");
}

#[test]
fn small_workgroup_memory_and_two_devices_give_the_same_results() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let mut limits = wgpu::Limits::downlevel_defaults();
    limits.max_compute_workgroup_storage_size = 4096;
    let small = GpuContext::new(&GpuOptions {
        limits: Some(limits),
        ..GpuOptions::default()
    })
    .unwrap();
    let (a, b) = (
        GpuContext::new(&GpuOptions::default()).unwrap(),
        GpuContext::new(&GpuOptions::default()).unwrap(),
    );
    for (cin, f, groups) in [(8, 16, 1), (3, 8, 1), (8, 8, 8), (6, 4, 2)] {
        let config = Conv2dConfig::builder(f, 3)
            .padding("same")
            .groups(groups)
            .use_bias(false)
            .build()
            .unwrap();
        let k = (0..9 * (cin / groups) * f)
            .map(|v| ((v % 7) as f32 - 3.0) / 4.0)
            .collect();
        let l = Conv2d::with_weights(
            config,
            Tensor::new([3, 3, (cin / groups) as usize, f as usize], k).unwrap(),
            None,
        )
        .unwrap();
        let x = Tensor::new(
            [2, 9, 7, cin as usize],
            (0..2 * 63 * cin as usize)
                .map(|v| ((v % 9) as f32 - 4.0) / 8.0)
                .collect(),
        )
        .unwrap();
        let want = l.forward(&x).unwrap();
        for ctx in [&small, &a, &b] {
            assert_eq!(
                l.forward_on(&Device::Gpu(ctx.clone()), &x).unwrap(),
                want,
                "exact data, any device"
            );
        }
    }
}

#[test]
fn device_loss_under_load_ends_every_call_without_hang_or_panic() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions {
        timeout: Duration::from_secs(20),
        ..GpuOptions::default()
    })
    .unwrap();
    let device = Device::Gpu(ctx.clone());
    let l = layer(8, 4);
    let x = Tensor::new(
        [1, 32, 32, 4],
        (0..4096).map(|v| ((v % 5) as f32 - 2.0) / 4.0).collect(),
    )
    .unwrap();
    let want = l.forward(&x).unwrap();
    assert!(l.forward_on(&device, &x).unwrap() == want); // compiled and resident before the load
    let start = Instant::now();
    let (ok, failed) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (l, x, device, want) = (&l, &x, &device, &want);
                s.spawn(move || {
                    let (mut ok, mut failed) = (0, 0);
                    // Until the loss has been seen a few times (calls are fast once buffers and
                    // bind groups are reused), with a bound in case it never shows.
                    let began = Instant::now();
                    while failed < 5 && began.elapsed() < Duration::from_secs(10) {
                        match l.forward_on(device, x) {
                            Ok(y) => {
                                assert!(y == *want, "a call that succeeded returned wrong data");
                                ok += 1;
                            }
                            Err(Error::DeviceLost { .. } | Error::Validation { .. } | Error::Timeout { .. }) => {
                                failed += 1
                            }
                            Err(e) => panic!("unexpected error class: {e}"),
                        }
                    }
                    (ok, failed)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        ctx.device().destroy();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!(
        "{ok} calls succeeded before the loss, {failed} ended in an error, {:?}",
        start.elapsed()
    );
    assert!(failed > 0, "the device loss was never observed");
    assert!(
        ok > 0,
        "no call finished before the loss: the test did not exercise both outcomes"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
}
