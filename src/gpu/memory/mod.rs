//! GPU memory: the buffer pool, uploads and readbacks, bind-group reuse, resident tensors and a
//! layer's resident weights. Byte sizes come from the element type.

pub(crate) mod binds;
pub(crate) mod buffers;
pub(crate) mod pool;
pub mod tensor;
pub(crate) mod weights;
