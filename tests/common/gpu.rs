//! The GPU context for tests: lavapipe (or whatever adapter exists), with NaN-filled outputs.
//! In CI (`CI` or `WGPU_CONV2D_REQUIRE_GPU` set) a missing adapter fails the test; elsewhere it skips loudly.

use std::sync::{Arc, OnceLock};

use wgpu_conv2d::{Conv2d, GpuContext, GpuOptions, GpuTensor, Tensor};

fn required() -> bool {
    std::env::var_os("WGPU_CONV2D_REQUIRE_GPU").is_some() || std::env::var_os("CI").is_some()
}

/// Options planning by the registry's rules: tests that assert which kernel runs must not see
/// choices a bench stored in the user's tuning cache.
pub fn rules() -> GpuOptions {
    GpuOptions {
        tuning: wgpu_conv2d::Tuning::Off,
        ..GpuOptions::default()
    }
}

/// The shared context, or None (after saying so) where no adapter exists outside CI.
pub fn gpu() -> Option<Arc<GpuContext>> {
    static CONTEXT: OnceLock<Option<Arc<GpuContext>>> = OnceLock::new();
    CONTEXT
        .get_or_init(|| match GpuContext::new(&rules()) {
            Ok(ctx) => {
                ctx.set_nan_fill_outputs(true);
                let l = ctx.caps();
                eprintln!("GPU tests on {:?}; limits {l:?}", ctx.adapter_info());
                Some(ctx)
            }
            Err(e) if required() => panic!("GPU tests need an adapter in CI: {e}"),
            Err(e) => {
                eprintln!("skipping GPU test: no adapter ({e})");
                None
            }
        })
        .clone()
}

/// A context with tiny limits that force every split and fold path.
pub fn tiny_gpu() -> Option<Arc<GpuContext>> {
    gpu()?;
    let mut limits = wgpu::Limits::downlevel_defaults();
    limits.max_storage_buffer_binding_size = 64 * 1024;
    limits.max_buffer_size = 256 * 1024;
    limits.max_compute_workgroups_per_dimension = 8;
    let ctx = GpuContext::new(&GpuOptions {
        limits: Some(limits),
        ..rules()
    })
    .expect("tiny-limits device");
    ctx.set_nan_fill_outputs(true);
    Some(ctx)
}

/// `layer` on `x` with the input uploaded and the output downloaded: the resident path.
pub fn forward_resident(ctx: &Arc<GpuContext>, layer: &Conv2d, x: &Tensor) -> Tensor {
    layer
        .forward_gpu(&GpuTensor::upload(ctx, x).unwrap())
        .unwrap()
        .download()
        .unwrap()
}
