//! `GpuContext`: the adapter, device, queue and limits the crate runs on, and its pipeline cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::gpu::pipelines::{self, Kernel};
use crate::gpu::planner::PlanLimits;
use crate::gpu::pool::{self, BufferPool};

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
    /// Bytes of idle buffers the context keeps for reuse by later calls (the oldest are freed
    /// first; [`GpuContext::release_cached_buffers`] frees them all).
    pub pool_bytes: u64,
    /// Which kernels run dense convolutions; `Auto` picks by adapter.
    pub kernel_family: KernelFamily,
}

/// The kernel family for dense (and grouped) convolutions. Depthwise layers use the depthwise
/// kernels under every family.
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
    /// The direct kernel only.
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
            pool_bytes: 256 << 20,
            kernel_family: KernelFamily::Auto,
        }
    }
}

/// Counters of what a context allocated for calls (weights excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuStats {
    /// Buffers created for calls (inputs, outputs, intermediates, readback staging); the pool
    /// serves repeated calls, so this stops growing once a workload is warm.
    pub buffers_created: u64,
    /// Bind groups created; layers cache theirs, so this too stops growing.
    pub bind_groups_created: u64,
    /// Bytes of idle buffers held for reuse now.
    pub idle_buffer_bytes: u64,
}

static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fault a test injects into the next GPU step of a context (TESTING.md B3 F5/F6).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// The next buffer creation fails as out-of-memory.
    OutOfMemory = 1,
    /// The next dispatch is invalid (over the workgroup limit), as a crate bug would be.
    InvalidDispatch = 2,
}

/// A wgpu device with what the crate needs around it. Cheap to share (`Arc`), `Send + Sync`.
pub struct GpuContext {
    pub(crate) id: u64,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) limits: PlanLimits,
    pub(crate) timeout: Duration,
    pub(crate) lost: Arc<AtomicBool>,
    pipelines: Mutex<HashMap<Kernel, Arc<wgpu::ComputePipeline>>>,
    /// A 16-byte buffer bound where a layer has no bias (zero-size bindings are invalid), and its id.
    pub(crate) dummy: (u64, wgpu::Buffer),
    /// Buffers for calls, reused across them.
    pub(crate) pool: Arc<BufferPool>,
    bind_groups_created: AtomicU64,
    /// On wgpu's GL backend: held for a whole crate operation. wgpu-hal panics when a thread
    /// waits more than 6 s for the GL context, which another thread can hold that long while
    /// Mesa compiles a large shader; waiting here instead has no such limit.
    gl_exclusive: Option<Mutex<()>>,
    /// Test knob: pre-fill outputs with NaN so an unwritten element shows.
    pub(crate) nan_fill_outputs: AtomicBool,
    /// Test knob: a [`Fault`] to inject into the next matching step (0: none).
    fault: std::sync::atomic::AtomicU8,
    /// Errors that reached the uncaptured handler (none should: every step is in a scope).
    uncaptured: Arc<AtomicU64>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .finish()
    }
}

fn env_backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all())
}

impl GpuContext {
    /// Picks an adapter headlessly (honouring `WGPU_BACKEND` and `WGPU_ADAPTER_NAME`), requests only
    /// the limits the kernels use, and logs the adapter once.
    ///
    /// # Errors
    /// [`Error::NoAdapter`] when no adapter matches; [`Error::Gpu`] when the device request fails.
    pub fn new(options: &GpuOptions) -> Result<Arc<Self>> {
        let backends = options.backends.unwrap_or_else(env_backends);
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        let wanted = options
            .adapter_name
            .clone()
            .or_else(|| std::env::var("WGPU_ADAPTER_NAME").ok())
            .map(|n| n.to_lowercase());
        let adapters = pollster::block_on(instance.enumerate_adapters(backends));
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        let mut candidates: Vec<wgpu::Adapter> = adapters
            .into_iter()
            .filter(|a| {
                let info = a.get_info();
                let name_ok = wanted
                    .as_ref()
                    .is_none_or(|w| info.name.to_lowercase().contains(w.as_str()));
                let type_ok = !options.force_fallback_adapter || info.device_type == wgpu::DeviceType::Cpu;
                name_ok && type_ok
            })
            .collect();
        // Prefer discrete, then integrated, then anything else (software last).
        candidates.sort_by_key(|a| match a.get_info().device_type {
            wgpu::DeviceType::DiscreteGpu => 0,
            wgpu::DeviceType::IntegratedGpu => 1,
            wgpu::DeviceType::VirtualGpu => 2,
            wgpu::DeviceType::Cpu => 3,
            wgpu::DeviceType::Other => 4,
        });
        let adapter = candidates.into_iter().next().ok_or_else(|| {
            Error::NoAdapter(format!(
                "backends {backends:?}{}{}; adapters seen: {names:?}",
                wanted
                    .as_ref()
                    .map_or(String::new(), |w| format!(", name containing {w:?}")),
                if options.force_fallback_adapter {
                    ", software only"
                } else {
                    ""
                }
            ))
        })?;
        let info = adapter.get_info();
        let available = adapter.limits();
        let limits = match &options.limits {
            Some(l) => l.clone(),
            None => Self::needed_limits(&available),
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("wgpu-conv2d"),
            // Subgroups are the one optional feature the kernels use (the software-adapter GEMM).
            required_features: adapter.features() & wgpu::Features::SUBGROUP,
            required_limits: limits,
            ..Default::default()
        }))
        .map_err(|e| Error::Gpu(format!("request_device on {}: {e}", info.name)))?;
        // wgpu's default handler panics; every crate step runs in an error scope, so anything that
        // still arrives here is logged rather than allowed to abort the caller.
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            eprintln!("wgpu-conv2d: uncaptured GPU error: {e}")
        }));
        eprintln!(
            "wgpu-conv2d: adapter {:?} ({:?}, {:?}, driver {:?} {:?})",
            info.name, info.backend, info.device_type, info.driver, info.driver_info
        );
        Ok(Self::wrap(device, queue, info, options))
    }

    /// The limits the kernels need: WebGPU's downlevel defaults, raised to the adapter's buffer
    /// and dispatch sizes so that large tensors split less.
    pub fn needed_limits(available: &wgpu::Limits) -> wgpu::Limits {
        wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            max_compute_workgroups_per_dimension: available.max_compute_workgroups_per_dimension,
            ..wgpu::Limits::downlevel_defaults()
        }
    }

    /// Wraps a device and queue the caller already has. Errors inside the crate's calls are caught
    /// by error scopes; the caller's uncaptured-error handler is left as it is.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Arc<Self> {
        Self::wrap(device, queue, info, &GpuOptions::default())
    }

    fn wrap(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo, options: &GpuOptions) -> Arc<Self> {
        let timeout = options.timeout;
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |_, _| flag.store(true, Ordering::SeqCst));
        // wgpu's default handler panics; every crate step runs in an error scope, so anything that
        // still arrives here is counted and logged rather than allowed to abort the caller.
        let uncaptured = Arc::new(AtomicU64::new(0));
        let count = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            count.fetch_add(1, Ordering::SeqCst);
            eprintln!("wgpu-conv2d: uncaptured GPU error: {e}");
        }));
        let dummy = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgpu-conv2d no-bias"),
            size: 16, // one vec4: the smallest binding of the vec4 kernels
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let subgroup8 = device.features().contains(wgpu::Features::SUBGROUP)
            && info.subgroup_min_size == 8
            && info.subgroup_max_size == 8;
        let software = info.device_type == wgpu::DeviceType::Cpu;
        // Software adapters reward few loads per FLOP and punish workgroup memory (every access is
        // a per-lane loop, barriers switch coroutines); hardware GPUs want workgroup tiles.
        let (subgroup8, workgroup_tiles) = match options.kernel_family {
            KernelFamily::Auto => (subgroup8 && software, !software),
            KernelFamily::SubgroupBroadcast => (subgroup8, false),
            KernelFamily::WorkgroupTiles => (false, true),
            KernelFamily::Direct => (false, false),
        };
        let gl = info.backend == wgpu::Backend::Gl;
        Arc::new(Self {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            limits: PlanLimits::of(&device.limits(), subgroup8, workgroup_tiles),
            device,
            queue,
            info,
            timeout,
            lost,
            pipelines: Mutex::new(HashMap::new()),
            dummy: (pool::next_id(), dummy),
            pool: Arc::new(BufferPool::new(options.pool_bytes)),
            bind_groups_created: AtomicU64::new(0),
            gl_exclusive: gl.then(|| Mutex::new(())),
            nan_fill_outputs: AtomicBool::new(false),
            fault: std::sync::atomic::AtomicU8::new(0),
            uncaptured,
        })
    }

    /// The adapter this context runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The limits the planner works within.
    pub fn plan_limits(&self) -> PlanLimits {
        self.limits
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// True once the device was lost (destroyed, reset or removed).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Test knob: pre-fill every output buffer with NaN so an element no kernel wrote fails a comparison.
    pub fn set_nan_fill_outputs(&self, on: bool) {
        self.nan_fill_outputs.store(on, Ordering::Relaxed);
    }

    /// Test knob: make the next matching GPU step fail with `fault`.
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: Fault) {
        self.fault.store(fault as u8, Ordering::SeqCst);
    }

    /// Takes the injected fault if it is `fault`.
    pub(crate) fn take_fault(&self, fault: Fault) -> bool {
        self.fault
            .compare_exchange(fault as u8, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// GPU errors that escaped every error scope and reached the uncaptured handler (0 is right).
    pub fn uncaptured_errors(&self) -> u64 {
        self.uncaptured.load(Ordering::SeqCst)
    }

    /// Pipelines compiled so far (one per kernel and tile variant, never one per shape).
    pub fn pipeline_count(&self) -> usize {
        self.pipelines.lock().map_or(0, |p| p.len())
    }

    /// What the context has allocated, for checking that steady calls reuse rather than allocate.
    pub fn stats(&self) -> GpuStats {
        GpuStats {
            buffers_created: self.pool.created(),
            bind_groups_created: self.bind_groups_created.load(Ordering::Relaxed),
            idle_buffer_bytes: self.pool.idle_bytes(),
        }
    }

    /// Frees the idle buffers kept for reuse (layers' cached bind groups go with their layers).
    pub fn release_cached_buffers(&self) {
        self.pool.clear();
    }

    /// On the GL backend, the guard that serialises this context's operations (see `gl_exclusive`).
    pub(crate) fn exclusive(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.gl_exclusive
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub(crate) fn count_bind_group(&self) {
        self.bind_groups_created.fetch_add(1, Ordering::Relaxed);
    }

    /// Lets wgpu deliver a pending device-lost callback: it fires from `maintain` once the queue is
    /// empty, so this runs before a call queues anything.
    pub(crate) fn refresh_lost_state(&self) {
        let _exclusive = self.exclusive();
        let _ = self.device.poll(wgpu::PollType::Poll);
    }

    pub(crate) fn check_alive(&self) -> Result<()> {
        if self.is_lost() {
            Err(Error::DeviceLost(format!(
                "the device of adapter {:?} was lost; create a new GpuContext",
                self.info.name
            )))
        } else {
            Ok(())
        }
    }

    /// Waits (bounded by the context's timeout) until all submitted work has finished.
    ///
    /// # Errors
    /// [`Error::Timeout`], [`Error::DeviceLost`].
    pub fn wait_idle(&self) -> Result<()> {
        let _exclusive = self.exclusive();
        match self.device.poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(self.timeout),
        }) {
            Ok(_) => self.check_alive(),
            Err(wgpu::PollError::Timeout) => Err(Error::Timeout(format!(
                "the GPU did not finish within {:?}",
                self.timeout
            ))),
            Err(e) => Err(Error::Gpu(e.to_string())),
        }
    }

    /// The compiled pipeline for `kernel`, compiled on first use inside an error scope.
    pub(crate) fn pipeline(&self, kernel: Kernel) -> Result<Arc<wgpu::ComputePipeline>> {
        if let Some(p) = self.pipelines.lock().map_err(|_| poisoned())?.get(&kernel) {
            return Ok(p.clone());
        }
        let pipeline = Arc::new(pipelines::create(self, kernel)?);
        // Two threads may have compiled the same variant: everyone keeps the first one cached,
        // since cached bind groups are made for one pipeline's (automatic, exclusive) layout.
        Ok(self
            .pipelines
            .lock()
            .map_err(|_| poisoned())?
            .entry(kernel)
            .or_insert(pipeline)
            .clone())
    }
}

fn poisoned() -> Error {
    Error::Gpu("a thread panicked while holding the pipeline cache".into())
}
