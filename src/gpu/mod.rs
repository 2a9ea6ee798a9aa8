//! The GPU path: context, planner, pipelines, buffers and the kernels' host side.

pub(crate) mod buffers;
pub(crate) mod context;
pub(crate) mod conv;
pub mod igemm_source;
pub mod params;
pub mod pipelines;
pub mod planner;
mod tensor;
mod uniforms;

pub use context::{Fault, GpuContext, GpuOptions};
pub use tensor::GpuTensor;
