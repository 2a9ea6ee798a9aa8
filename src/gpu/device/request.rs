//! What a context asks of an adapter: the limits the kernels need and the optional features they
//! use, each only where the adapter has it.

use crate::gpu::device::options::GpuOptions;

/// The limits the kernels need: WebGPU's downlevel defaults, raised to the adapter's buffer and
/// dispatch sizes so that large tensors split less, and to its workgroup memory and sizes so that
/// the larger GEMM tiles are offered where the adapter holds them, and to its 2-D texture size so
/// that more kernels fit a texture.
pub fn needed_limits(available: &wgpu::Limits) -> wgpu::Limits {
    wgpu::Limits {
        max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
        max_buffer_size: available.max_buffer_size,
        max_compute_workgroups_per_dimension: available.max_compute_workgroups_per_dimension,
        max_compute_workgroup_storage_size: available.max_compute_workgroup_storage_size,
        max_compute_invocations_per_workgroup: available.max_compute_invocations_per_workgroup,
        max_compute_workgroup_size_x: available.max_compute_workgroup_size_x,
        max_compute_workgroup_size_y: available.max_compute_workgroup_size_y,
        max_texture_dimension_2d: available.max_texture_dimension_2d,
        ..wgpu::Limits::downlevel_defaults()
    }
}

/// The optional features to request from an adapter that has `available`: subgroups (the
/// software-adapter GEMMs), `SHADER_F16` (f16 storage) and `PIPELINE_CACHE` unless the options
/// turn them off, and the tuner's timestamps.
pub fn wanted_features(available: wgpu::Features, options: &GpuOptions) -> wgpu::Features {
    let when = |on: bool, f: wgpu::Features| if on { f } else { wgpu::Features::empty() };
    available
        & (wgpu::Features::SUBGROUP
            | when(options.shader_f16, wgpu::Features::SHADER_F16)
            | when(options.persistent_pipeline_cache, wgpu::Features::PIPELINE_CACHE)
            | crate::gpu::tuning::timer::FEATURES)
}
