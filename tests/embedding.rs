//! The crate inside a caller's wgpu application: `from_device` on the caller's device keeps the
//! caller's uncaptured-error handler and device-lost callback working (chained after the crate's),
//! and `GpuTensor::from_buffer` / `GpuTensor::buffer` move tensors between the caller's passes and
//! the layers with no copy through the host.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wgpu_conv2d::gpu::{DeviceLostHandler, ErrorHandler};
use wgpu_conv2d::{Conv2d, Conv2dConfig, GpuContext, GpuOptions, GpuTensor, Tensor};

/// The caller's own device, made the way an application would.
fn own_device() -> Option<(wgpu::Device, wgpu::Queue, wgpu::AdapterInfo)> {
    common::gpu::gpu()?; // skips (or fails in CI) exactly as the other GPU tests do
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends;
    let instance = wgpu::Instance::new(desc);
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default())).ok()?;
    let info = adapter.get_info();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_limits: GpuContext::needed_limits(&adapter.limits()),
        ..Default::default()
    }))
    .ok()?;
    Some((device, queue, info))
}

fn layer() -> Conv2d {
    let config = Conv2dConfig::builder(4, 3)
        .padding("same")
        .activation("relu")
        .build()
        .unwrap();
    let k: Vec<f32> = (0..3 * 3 * 2 * 4).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
    Conv2d::with_weights(
        config,
        Tensor::new([3, 3, 2, 4], k).unwrap(),
        Some(Tensor::new([4], vec![1.0, -2.0, 0.5, 3.0]).unwrap()),
    )
    .unwrap()
}

#[test]
fn the_callers_handlers_keep_working_after_from_device() {
    let Some((device, queue, info)) = own_device() else {
        return;
    };
    let errors = Arc::new(AtomicUsize::new(0));
    let losses = Arc::new(AtomicUsize::new(0));
    let (e, l) = (errors.clone(), losses.clone());
    let ctx = GpuContext::from_device(
        device.clone(),
        queue,
        info,
        &GpuOptions {
            uncaptured_error_handler: Some(ErrorHandler(Arc::new(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            }))),
            device_lost_callback: Some(DeviceLostHandler(Arc::new(move |_, _| {
                l.fetch_add(1, Ordering::SeqCst);
            }))),
            ..Default::default()
        },
    );
    // The crate's own work raises nothing.
    let x = Tensor::new([1, 5, 5, 2], (0..50).map(|v| (v % 7) as f32 - 3.0).collect()).unwrap();
    let y = layer().forward_on(&wgpu_conv2d::Device::Gpu(ctx.clone()), &x).unwrap();
    assert_eq!(y.data(), layer().forward(&x).unwrap().data());
    assert_eq!(errors.load(Ordering::SeqCst), 0);
    // The application's own mistake, outside any scope: the crate counts it and the caller's
    // handler still sees it.
    let _bad = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("invalid: MAP_READ with STORAGE"),
        size: 16,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    assert_eq!(errors.load(Ordering::SeqCst), 1);
    assert_eq!(ctx.uncaptured_errors(), 1);
    // A lost device reaches both.
    device.destroy();
    let _ = device.poll(wgpu::PollType::wait_indefinitely());
    assert_eq!(losses.load(Ordering::SeqCst), 1);
    assert!(ctx.is_lost());
}

#[test]
fn tensors_move_between_the_callers_buffers_and_the_layers_without_the_host() {
    let Some((device, queue, info)) = own_device() else {
        return;
    };
    let ctx = GpuContext::from_device(device.clone(), queue.clone(), info, &GpuOptions::default());
    let x: Vec<f32> = (0..2 * 6 * 7 * 2).map(|v| ((v * 13) % 17) as f32 - 8.0).collect();
    let shape = [2, 6, 7, 2];
    // The caller's buffer, written by the caller's queue.
    let input = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("caller input"),
        size: (x.len() * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&input, 0, bytemuck::cast_slice(&x));
    let t = GpuTensor::from_buffer(&ctx, input.clone(), &shape).unwrap();
    let y = layer().forward_gpu(&t).unwrap();
    let want = layer().forward(&Tensor::new(shape, x.clone()).unwrap()).unwrap();
    assert_eq!(y.download().unwrap().data(), want.data());
    // The caller consumes the output in its own pass: a copy into its own readback buffer.
    let bytes = (want.len() * 4) as u64;
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("caller readback"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(y.buffer(), 0, &readback, 0, bytes);
    queue.submit([encoder.finish()]);
    readback.slice(..).map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let got: Vec<f32> = bytemuck::cast_slice(&readback.slice(..).get_mapped_range().unwrap()).to_vec();
    assert_eq!(got, want.data());
    // The input buffer is the caller's still, unchanged.
    assert_eq!(t.download().unwrap().data(), &x[..]);
    assert_eq!(ctx.uncaptured_errors(), 0);
}

#[test]
fn from_buffer_states_each_requirement() {
    let Some((device, queue, info)) = own_device() else {
        return;
    };
    let ctx = GpuContext::from_device(device.clone(), queue, info, &GpuOptions::default());
    let buffer = |size, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage,
            mapped_at_creation: false,
        })
    };
    let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let err = GpuTensor::from_buffer(&ctx, buffer(64, wgpu::BufferUsages::STORAGE), &[1, 2, 2, 4]).unwrap_err();
    assert!(
        err.to_string().contains("needs at least") && err.to_string().contains("COPY_SRC"),
        "{err}"
    );
    let err = GpuTensor::from_buffer(&ctx, buffer(60, storage), &[1, 2, 2, 4]).unwrap_err();
    assert!(
        err.to_string().contains("holds 60 bytes") && err.to_string().contains("needs 64"),
        "{err}"
    );
    let err = GpuTensor::from_buffer(&ctx, buffer(64, storage), &[usize::MAX, 2]).unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
    assert!(GpuTensor::from_buffer(&ctx, buffer(64, storage), &[1, 2, 2, 4]).is_ok());
    assert_eq!(ctx.uncaptured_errors(), 0);
}
