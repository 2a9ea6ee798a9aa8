//! How a context picks its adapter, how long it waits, how much it pools, and which kernels it may use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::gpu::device::wait::WaitMode;
use crate::gpu::program::AlgorithmId;
use crate::gpu::tuning::Tuning;

/// How to pick an adapter and how long to wait for the GPU.
#[derive(Debug, Clone)]
pub struct GpuOptions {
    /// Backends to try; `None` reads `WGPU_BACKEND` (all backends when unset).
    pub backends: Option<wgpu::Backends>,
    /// Substring of the adapter name (case-insensitive); `None` reads `WGPU_ADAPTER_NAME`.
    pub adapter_name: Option<String>,
    /// Only CPU (software) adapters, such as lavapipe.
    pub force_fallback_adapter: bool,
    /// Limits to request instead of the ones the kernels need (tests use tiny ones to force splits).
    pub limits: Option<wgpu::Limits>,
    /// The longest a single wait on the GPU may take before it is an error.
    pub timeout: Duration,
    /// Whether a wait polls before it blocks (by default on CPU adapters only).
    pub wait_mode: WaitMode,
    /// Bytes of idle buffers the context keeps for reuse by later calls (the oldest are freed
    /// first; [`crate::GpuContext::release_cached_buffers`] frees them all).
    pub pool_bytes: u64,
    /// Which kernels run dense convolutions; `Auto` picks by adapter.
    pub kernel_family: KernelFamily,
    /// Only these algorithms (the registry's ids), in the registry's order, whatever the family;
    /// the direct kernel still runs what none of them supports. `None`: the family decides.
    pub algorithms: Option<Vec<AlgorithmId>>,
    /// Request `SHADER_F16` where the adapter has it, so float16 layers store f16 tensors (half the
    /// memory and bandwidth). Off: they run f32 kernels on float16-rounded values (same numbers).
    pub shader_f16: bool,
    /// Whether algorithms are measured ([`Tuning`]); `WGPU_CONV2D_TUNING` overrides it.
    pub tuning: Tuning,
    /// The most time one geometry class's measurement may take (compiles included; at least the
    /// rules' algorithm is always measured).
    pub tuning_budget: Duration,
    /// Where the tuning choices and the pipeline cache persist; `None`: `WGPU_CONV2D_CACHE_DIR`,
    /// else the platform's cache directory (see [`crate::gpu::tuning::store::cache_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// Keep wgpu's pipeline cache on disk where the adapter has `PIPELINE_CACHE` (Vulkan), so a
    /// later process compiles less.
    pub persistent_pipeline_cache: bool,
    /// For [`crate::GpuContext::from_device`]: your uncaptured-error handler. wgpu keeps one per
    /// device, and the context installs its own (it counts and logs what escapes its error
    /// scopes), which then calls this one with every error.
    pub uncaptured_error_handler: Option<ErrorHandler>,
    /// For [`crate::GpuContext::from_device`]: your device-lost callback, called after the context
    /// has marked itself lost (wgpu keeps one per device, too).
    pub device_lost_callback: Option<DeviceLostHandler>,
}

/// A caller's uncaptured-error handler (see [`GpuOptions::uncaptured_error_handler`]).
#[derive(Clone)]
pub struct ErrorHandler(pub Arc<dyn Fn(wgpu::Error) + Send + Sync>);

/// A caller's device-lost callback (see [`GpuOptions::device_lost_callback`]).
#[derive(Clone)]
pub struct DeviceLostHandler(pub Arc<dyn Fn(wgpu::DeviceLostReason, String) + Send + Sync>);

impl std::fmt::Debug for ErrorHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorHandler(..)")
    }
}

impl std::fmt::Debug for DeviceLostHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceLostHandler(..)")
    }
}

/// The kernel family for dense convolutions: a filter over the registry. The depthwise and
/// grouped blocked kernels, and the direct kernel, are in no family and run under every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelFamily {
    /// By adapter: on a software adapter (lavapipe) with 8-lane subgroups, the subgroup-broadcast
    /// implicit GEMMs; on a hardware GPU, the workgroup-memory tiled GEMM; the direct kernel for
    /// what neither covers.
    #[default]
    Auto,
    /// The subgroup-broadcast GEMMs wherever the device has 8-lane subgroups.
    SubgroupBroadcast,
    /// The workgroup-memory tiled GEMM wherever the device's limits hold it.
    WorkgroupTiles,
    /// No family: dense layers run the direct kernel.
    Direct,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            backends: None,
            adapter_name: None,
            force_fallback_adapter: false,
            limits: None,
            timeout: Duration::from_secs(60),
            wait_mode: WaitMode::Auto,
            pool_bytes: 256 << 20,
            kernel_family: KernelFamily::Auto,
            algorithms: None,
            shader_f16: true,
            tuning: Tuning::Cached,
            tuning_budget: Duration::from_secs(20),
            cache_dir: None,
            persistent_pipeline_cache: true,
            uncaptured_error_handler: None,
            device_lost_callback: None,
        }
    }
}

/// Which registry algorithms a context may choose: the options' family and explicit list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlgorithmFilter {
    /// The kernel family.
    pub family: KernelFamily,
    /// When set, only these algorithms (the family is then ignored).
    pub only: Option<Vec<AlgorithmId>>,
}
