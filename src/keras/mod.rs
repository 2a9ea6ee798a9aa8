//! The Keras surface: `Conv2D`'s config and its JSON, and the objects it names (activations,
//! initializers, regularizers, constraints), each in Keras's words.

pub mod activation;
pub mod builder;
pub mod config;
pub(crate) mod constraint;
pub mod dtype;
pub(crate) mod initializer;
mod json;
pub(crate) mod object;
pub(crate) mod regularizer;
