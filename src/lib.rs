//! Keras's `Conv2D` layer as WGSL compute shaders through wgpu, with an f64 CPU reference path
//! that defines what correct means.
//!
//! Start from [`Conv2dConfig`] (built in Rust or read from `layer.get_config()` JSON) and a
//! [`Conv2d`] layer holding Keras-layout (HWIO) weights.
#![warn(missing_docs)]

pub mod conv;
pub mod cpu;
mod device;
mod error;
pub mod gpu;
pub mod io;
pub mod keras;
mod layer;
pub mod rng;
mod tensor;
#[cfg(feature = "ndarray")]
mod tensor_ndarray;
pub mod weights;

// The Keras surface's modules under their earlier paths.
pub use conv::geometry;
pub use keras::{activation, config};

pub use conv::{Conv2dGeometry, DataFormat, Padding};
pub use device::Device;
pub use error::{Error, GpuSource, Result};
pub use gpu::{GpuContext, GpuOptions, GpuStats, GpuTensor, KernelFamily, Tuning, WaitMode};
/// The `half` crate, whose `f16` and `bf16` the half-precision tensor conversions take and give.
pub use half;
pub use keras::activation::Activation;
pub use keras::builder::{Conv2dBuilder, KerasArg};
pub use keras::config::{Conv2dConfig, IntArg};
pub use keras::constraint::Constraint;
pub use keras::dtype::{DtypePolicy, FloatType};
pub use keras::initializer::Initializer;
pub use keras::regularizer::Regularizer;
pub use layer::Conv2d;
pub use tensor::Tensor;
