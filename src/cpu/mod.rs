//! The CPU path: the f64 reference convolution and the activation epilogue around it.

pub mod reference;
