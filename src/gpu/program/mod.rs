//! GPU programs as data: the element type, a program's key (name + variant + element type), the
//! WGSL each is assembled from, the bind-group layouts they share, and the compiled-pipeline cache.

pub mod access;
pub(crate) mod cache;
pub mod element;
pub mod key;
pub mod layouts;
pub mod wgsl;
pub mod writer;

pub use element::ElementType;
pub use key::{AlgorithmId, ProgramKey, Variant};
pub use layouts::{BindingShape, Slot};
pub use writer::WgslWriter;
