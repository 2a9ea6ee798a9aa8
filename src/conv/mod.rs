//! The convolution itself, independent of Keras and of any device: its arguments, its geometry
//! and the pieces a call is cut into.

pub mod chunk;
pub mod geometry;
pub mod spec;

pub use chunk::Chunk;
pub use geometry::Conv2dGeometry;
pub use spec::{ConvParams, DataFormat, Padding};
