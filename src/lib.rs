//! Keras's `Conv2D` layer as WGSL compute shaders through wgpu, with an f64 CPU reference path
//! that defines what correct means.
//!
//! Start from [`Conv2dConfig`] (built in Rust or read from `layer.get_config()` JSON) and a
//! [`Conv2d`] layer holding Keras-layout (HWIO) weights.
#![warn(missing_docs)]

pub mod activation;
pub mod config;
mod constraint;
pub mod cpu;
mod device;
mod error;
mod format;
pub mod geometry;
pub mod gpu;
mod init;
pub mod io;
mod keras_json;
mod keras_object;
mod layer;
mod regularizer;
pub mod rng;
mod tensor;
pub mod weights;

pub use activation::Activation;
pub use config::{Conv2dBuilder, Conv2dConfig, DataFormat, IntArg, KerasArg, Padding};
pub use constraint::Constraint;
pub use device::Device;
pub use error::{Error, Result};
pub use geometry::Conv2dGeometry;
pub use gpu::{GpuContext, GpuOptions, GpuStats, GpuTensor, KernelFamily};
pub use init::Initializer;
pub use layer::Conv2d;
pub use regularizer::Regularizer;
pub use tensor::Tensor;
