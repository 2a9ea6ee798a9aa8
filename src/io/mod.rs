//! Reading and writing tensors and models in exchange formats: `.npy`, Keras's `.keras`,
//! `.weights.h5` and legacy `.h5` model files, `.safetensors` and `.npz` named tensors.

mod archive;
mod h5;
mod keras_model;
pub mod model_file;
pub mod named_tensors;
pub mod npy;

pub use model_file::{layer_from_weights_h5, list_conv2d_layers, LayerSummary, ModelFile, ModelFormat};
pub use named_tensors::{layer_from_tensors, KernelLayout, TensorFile};
