//! The GPU path: the device context, GPU memory, programs, the algorithms' registry, the planner
//! and the executor.

pub mod device;
pub(crate) mod execute;
pub mod kernels;
pub mod memory;
pub mod plan;
pub mod program;
pub(crate) mod side_passes;
pub mod tuning;

pub use device::{
    AlgorithmFilter, DeviceCaps, DeviceLostHandler, ErrorHandler, Fault, GpuContext, GpuOptions, GpuStats,
    KernelFamily, WaitMode,
};
pub use memory::tensor::GpuTensor;
pub use program::ElementType;
pub use tuning::Tuning;
