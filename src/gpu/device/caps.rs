//! What the planner and the kernels may rely on about a device: its limits as numbers and the
//! features the kernels use, as flags. Nothing here names an adapter.

/// A device's capabilities, as the planner sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCaps {
    /// `max_storage_buffer_binding_size`.
    pub max_binding: u64,
    /// `max_buffer_size`.
    pub max_buffer: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub max_workgroups_per_dim: u32,
    /// `max_compute_workgroup_storage_size`.
    pub max_workgroup_storage: u32,
    /// `max_compute_invocations_per_workgroup`.
    pub max_invocations_per_workgroup: u32,
    /// `max_compute_workgroup_size_x`, `_y`, `_z`.
    pub max_workgroup_size: [u32; 3],
    /// `max_texture_dimension_2d`: the widest and tallest kernel texture.
    pub max_texture_2d: u32,
    /// Subgroups of exactly 8 lanes (the `SUBGROUP` feature on an adapter such as lavapipe).
    pub subgroup8: bool,
    /// A CPU (software) adapter: it rewards few loads per FLOP and punishes workgroup memory.
    pub software: bool,
    /// The CPU threads a software adapter runs workgroups on (0 on other adapters): llvmpipe's
    /// `LP_NUM_THREADS` where set, else the host's available parallelism.
    pub threads: u32,
    /// The device has `SHADER_F16`: half-precision layers store f16 tensors.
    pub shader_f16: bool,
    /// The adapter's subgroup size where it is fixed (0: unknown or a range): workgroup-tiled
    /// kernels are offered only with a whole number of subgroups per workgroup.
    pub subgroup_size: u32,
}

impl DeviceCaps {
    /// The capabilities of a device with `limits`.
    pub fn of(limits: &wgpu::Limits, subgroup8: bool, software: bool) -> Self {
        Self {
            max_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
            max_workgroup_storage: limits.max_compute_workgroup_storage_size,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_workgroup_size: [
                limits.max_compute_workgroup_size_x,
                limits.max_compute_workgroup_size_y,
                limits.max_compute_workgroup_size_z,
            ],
            max_texture_2d: limits.max_texture_dimension_2d,
            subgroup8,
            software,
            threads: 0,
            shader_f16: false,
            subgroup_size: 0,
        }
    }

    /// WebGPU's downlevel defaults with these binding, buffer and dispatch limits (tests and tools).
    pub fn with_limits(max_binding: u64, max_buffer: u64, max_workgroups_per_dim: u32) -> Self {
        let mut caps = Self::of(&wgpu::Limits::downlevel_defaults(), false, false);
        caps.max_binding = max_binding;
        caps.max_buffer = max_buffer;
        caps.max_workgroups_per_dim = max_workgroups_per_dim;
        caps
    }

    /// True when programs of `element` can run here.
    pub fn supports_element(&self, element: crate::gpu::program::ElementType) -> bool {
        match element {
            crate::gpu::program::ElementType::F32 | crate::gpu::program::ElementType::BF16 => true,
            crate::gpu::program::ElementType::F16 => self.shader_f16,
        }
    }

    /// The threads a CPU adapter on this host runs workgroups on: `LP_NUM_THREADS` (llvmpipe's
    /// own setting; 0 there means it runs them on the submitting thread) where set, else the
    /// host's available parallelism.
    pub fn host_threads() -> u32 {
        let from_env = std::env::var("LP_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok());
        from_env.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            |n| n.max(1),
        )
    }

    /// The largest byte size one tensor binding may have.
    pub fn max_tensor_bytes(&self) -> u64 {
        self.max_binding.min(self.max_buffer)
    }

    /// True when a workgroup of `x` × `y` invocations using `storage` bytes of workgroup memory fits.
    pub fn holds_workgroup(&self, x: u32, y: u32, storage: u32) -> bool {
        self.max_workgroup_storage >= storage
            && self.max_invocations_per_workgroup >= x.saturating_mul(y)
            && self.max_workgroup_size[0] >= x
            && self.max_workgroup_size[1] >= y
    }
}
