//! The device side: the context (adapter, device, queue, capabilities), its options, error scopes
//! over a `wgpu::Device`, how waits poll, and the test hooks for injected faults.

pub mod caps;
pub mod context;
pub mod faults;
pub mod options;
pub(crate) mod pipeline_store;
pub mod request;
pub(crate) mod scope;
pub mod wait;

pub use caps::DeviceCaps;
pub use context::{GpuContext, GpuStats};
pub use faults::Fault;
pub use options::{AlgorithmFilter, DeviceLostHandler, ErrorHandler, GpuOptions, KernelFamily};
pub use wait::WaitMode;
