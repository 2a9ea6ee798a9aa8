//! The GPU path: context, planner, pipelines, buffers and the kernels' host side.

pub(crate) mod binds;
pub(crate) mod buffers;
pub(crate) mod context;
pub(crate) mod conv;
pub mod depthwise_source;
pub mod igemm_source;
pub mod narrow_source;
pub mod params;
pub mod pipelines;
pub mod planner;
pub(crate) mod pool;
mod tensor;
mod uniforms;

pub use context::{Fault, GpuContext, GpuOptions, GpuStats, KernelFamily};
pub use tensor::GpuTensor;
