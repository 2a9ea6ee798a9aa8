//! `GpuContext`: the adapter, device and queue the crate runs on, the capabilities the planner
//! sees, and what the context keeps across calls (pipelines, layouts, pooled buffers).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, GpuSource, Result};
use crate::gpu::device::caps::DeviceCaps;
use crate::gpu::device::faults::{Fault, FaultSlot};
use crate::gpu::device::options::{AlgorithmFilter, GpuOptions};
use crate::gpu::device::pipeline_store::PipelineStore;
use crate::gpu::device::request;
use crate::gpu::device::scope::{self, Liveness};
use crate::gpu::memory::pool::{self, BufferPool};
use crate::gpu::program::cache::PipelineCache;
use crate::gpu::program::layouts::Layouts;
use crate::gpu::tuning::Tuner;

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
    /// Bytes of tensor buffers (inputs, outputs, intermediates) handed to calls, pooled or new:
    /// the GPU memory the calls' tensors took, which f16 storage halves.
    pub tensor_bytes_acquired: u64,
    /// Bytes written from the host into call buffers (inputs; not the weights, uploaded once per layer).
    pub bytes_uploaded: u64,
    /// Bytes read back to the host.
    pub bytes_read_back: u64,
    /// Microseconds spent measuring algorithms ([`crate::Tuning::Measure`]), compiles included.
    pub tuning_micros: u64,
    /// Geometry classes measured by this context.
    pub classes_tuned: u64,
}

static NEXT_CONTEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A wgpu device with what the crate needs around it. Cheap to share (`Arc`), `Send + Sync`.
pub struct GpuContext {
    pub(crate) id: u64,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    /// What the planner may rely on: limits and features, as numbers and flags.
    pub(crate) caps: DeviceCaps,
    /// Which registry algorithms this context may choose (from `GpuOptions`).
    pub(crate) filter: AlgorithmFilter,
    pub(crate) timeout: Duration,
    /// How long a wait polls before it blocks (from [`crate::gpu::device::WaitMode`]).
    pub(crate) poll_time: Duration,
    pub(crate) liveness: Liveness,
    pub(crate) pipelines: PipelineCache,
    /// wgpu's pipeline cache on disk, where the adapter has one.
    pub(crate) pipeline_store: Option<PipelineStore>,
    /// Which algorithm each geometry class runs, when measured.
    pub(crate) tuner: Tuner,
    pub(crate) layouts: Layouts,
    /// A 16-byte buffer bound where a layer has no bias (zero-size bindings are invalid), and its id.
    pub(crate) dummy: (u64, wgpu::Buffer),
    /// Buffers for calls, reused across them.
    pub(crate) pool: Arc<BufferPool>,
    bind_groups_created: AtomicU64,
    /// On wgpu's GL backend: a process-wide lock is held for a whole crate operation. wgpu-hal panics when a thread
    /// waits more than 6 s for the GL context, which another thread can hold that long while
    /// Mesa compiles a large shader; waiting here instead has no such limit.
    gl_exclusive: bool,
    /// Test knob: pre-fill outputs with NaN so an unwritten element shows.
    pub(crate) nan_fill_outputs: AtomicBool,
    /// Test knob: a [`Fault`] to inject into the next matching step.
    pub(crate) faults: FaultSlot,
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
    /// [`Error::NoAdapter`] when no adapter matches; [`Error::RequestDevice`] when the device request fails.
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
            required_features: request::wanted_features(adapter.features(), options),
            required_limits: limits,
            ..Default::default()
        }))
        .map_err(|e| Error::RequestDevice {
            adapter: info.name.clone(),
            source: GpuSource::new(e),
        })?;
        log::info!(
            "adapter {:?} ({:?}, {:?}, driver {:?} {:?})",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info
        );
        Ok(Self::wrap(device, queue, info, options))
    }

    /// The limits the kernels need (see [`request::needed_limits`]).
    pub fn needed_limits(available: &wgpu::Limits) -> wgpu::Limits {
        request::needed_limits(available)
    }

    /// Wraps a device and queue the caller already has. The crate's steps run in error scopes;
    /// what escapes them reaches the context's uncaptured-error handler, which counts and logs it
    /// and then calls `options.uncaptured_error_handler`; a device loss marks the context lost and
    /// then calls `options.device_lost_callback`. wgpu keeps one of each per device, so give yours
    /// here rather than setting them on the device afterwards (that would replace the context's).
    /// From `options` the timeout, pool size, kernel family and algorithm list apply; the adapter
    /// choice and limits are the device's own, and the planner works within `device.limits()`.
    pub fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
        options: &GpuOptions,
    ) -> Arc<Self> {
        Self::wrap(device, queue, info, options)
    }

    fn wrap(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo, options: &GpuOptions) -> Arc<Self> {
        let liveness = Liveness::new(&info.name);
        let flag = liveness.flag();
        let on_lost = options.device_lost_callback.clone();
        device.set_device_lost_callback(move |reason, message| {
            flag.store(true, Ordering::SeqCst);
            if let Some(callback) = &on_lost {
                (callback.0)(reason, message);
            }
        });
        // wgpu's default handler panics; every crate step runs in an error scope, so anything that
        // still arrives here is counted and logged rather than allowed to abort the caller.
        let uncaptured = Arc::new(AtomicU64::new(0));
        let count = uncaptured.clone();
        let on_error = options.uncaptured_error_handler.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            count.fetch_add(1, Ordering::SeqCst);
            log::error!("uncaptured GPU error (a step outside the crate's error scopes): {e}");
            if let Some(handler) = &on_error {
                (handler.0)(e);
            }
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
        let gl = info.backend == wgpu::Backend::Gl;
        let dir = crate::gpu::tuning::store::cache_dir(options.cache_dir.as_deref());
        let pipeline_store = options
            .persistent_pipeline_cache
            .then(|| PipelineStore::open(&device, &info, dir.clone()))
            .flatten();
        let tuner = Tuner::new(options.tuning, options.tuning_budget, dir, &info);
        Arc::new(Self {
            id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            caps: DeviceCaps {
                shader_f16: device.features().contains(wgpu::Features::SHADER_F16),
                // Only an exact size is a rule for workgroups (GL reports a 4..128 range).
                subgroup_size: if info.subgroup_min_size == info.subgroup_max_size {
                    info.subgroup_max_size
                } else {
                    0
                },
                threads: if software { DeviceCaps::host_threads() } else { 0 },
                ..DeviceCaps::of(&device.limits(), subgroup8, software)
            },
            filter: AlgorithmFilter {
                family: options.kernel_family,
                only: options.algorithms.clone(),
            },
            device,
            queue,
            info,
            timeout: options.timeout,
            poll_time: options.wait_mode.poll_time(software),
            liveness,
            pipelines: PipelineCache::default(),
            pipeline_store,
            tuner,
            layouts: Layouts::default(),
            dummy: (pool::next_id(), dummy),
            pool: Arc::new(BufferPool::new(options.pool_bytes)),
            bind_groups_created: AtomicU64::new(0),
            gl_exclusive: gl,
            nan_fill_outputs: AtomicBool::new(false),
            faults: FaultSlot::default(),
            uncaptured,
        })
    }

    /// The adapter this context runs on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The capabilities the planner works within.
    pub fn caps(&self) -> &DeviceCaps {
        &self.caps
    }

    /// The registry filter this context plans with (from [`GpuOptions`]).
    pub fn filter(&self) -> &AlgorithmFilter {
        &self.filter
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
        self.liveness.is_lost()
    }

    /// Test knob: pre-fill every output buffer with NaN so an element no kernel wrote fails a comparison.
    pub fn set_nan_fill_outputs(&self, on: bool) {
        self.nan_fill_outputs.store(on, Ordering::Relaxed);
    }

    /// Test knob: make the next matching GPU step fail with `fault`.
    #[doc(hidden)]
    pub fn inject_fault(&self, fault: Fault) {
        self.faults.inject(fault);
    }

    /// GPU errors that escaped every error scope and reached the uncaptured handler (0 is right).
    pub fn uncaptured_errors(&self) -> u64 {
        self.uncaptured.load(Ordering::SeqCst)
    }

    /// Pipelines compiled so far (one per program variant and element type, never one per shape).
    pub fn pipeline_count(&self) -> usize {
        self.pipelines.len()
    }

    /// What the context has allocated, for checking that steady calls reuse rather than allocate.
    pub fn stats(&self) -> GpuStats {
        GpuStats {
            buffers_created: self.pool.created(),
            bind_groups_created: self.bind_groups_created.load(Ordering::Relaxed),
            idle_buffer_bytes: self.pool.idle_bytes(),
            tensor_bytes_acquired: self.pool.acquired_bytes.load(Ordering::Relaxed),
            bytes_uploaded: self.pool.uploaded_bytes.load(Ordering::Relaxed),
            bytes_read_back: self.pool.read_bytes.load(Ordering::Relaxed),
            tuning_micros: self.tuner.tuning_micros.load(Ordering::Relaxed),
            classes_tuned: self.tuner.classes_measured.load(Ordering::Relaxed),
        }
    }

    /// The tuning mode in force (the option, or `WGPU_CONV2D_TUNING`).
    pub fn tuning(&self) -> crate::Tuning {
        self.tuner.mode
    }

    /// The algorithm chosen per geometry class so far (loaded from the cache or measured).
    pub fn tuning_choices(&self) -> std::collections::BTreeMap<String, crate::gpu::tuning::Choice> {
        self.tuner.choices()
    }

    /// True when compiled pipelines persist through wgpu's pipeline cache on this adapter.
    pub fn has_persistent_pipeline_cache(&self) -> bool {
        self.pipeline_store.is_some()
    }

    /// Frees the idle buffers kept for reuse (layers' cached bind groups go with their layers).
    pub fn release_cached_buffers(&self) {
        self.pool.clear();
    }

    /// On the GL backend, the guard that serialises the crate's GL operations (see `gl_exclusive`):
    /// one lock for every GL context of the process, since wgpu-hal's GL contexts wait on each other.
    pub(crate) fn exclusive(&self) -> Option<std::sync::MutexGuard<'static, ()>> {
        static GL: Mutex<()> = Mutex::new(());
        self.gl_exclusive
            .then(|| GL.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub(crate) fn count_bind_group(&self) {
        self.bind_groups_created.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `f` inside this device's error scopes (see [`scope::scoped`]).
    pub(crate) fn scoped<T>(&self, operation: &str, f: impl FnOnce() -> T) -> Result<T> {
        scope::scoped(&self.device, &self.liveness, operation, f)
    }

    /// Lets wgpu deliver a pending device-lost callback: it fires from `maintain` once the queue is
    /// empty, so this runs before a call queues anything.
    pub(crate) fn refresh_lost_state(&self) {
        let _exclusive = self.exclusive();
        let _ = self.device.poll(wgpu::PollType::Poll);
    }

    pub(crate) fn check_alive(&self) -> Result<()> {
        self.liveness.check()
    }

    /// Waits (bounded by the context's timeout) until all submitted work has finished.
    ///
    /// # Errors
    /// [`Error::Timeout`], [`Error::DeviceLost`].
    pub fn wait_idle(&self) -> Result<()> {
        let _exclusive = self.exclusive();
        self.wait(None, "waiting for the queue to drain")
    }
}
