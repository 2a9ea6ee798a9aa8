//! Reading and writing tensors in exchange formats.

pub mod npy;
