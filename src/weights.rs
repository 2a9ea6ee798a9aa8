//! Kernel layout conversion between Keras (HWIO) and PyTorch (OIHW).

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A PyTorch `Conv2d.weight` `(out, in/groups, kh, kw)` as a Keras kernel `(kh, kw, in/groups, out)`.
///
/// # Errors
/// [`Error::InvalidArgument`] when the tensor is not 4-D.
pub fn kernel_from_oihw(oihw: &Tensor) -> Result<Tensor> {
    let [o, i, h, w] = dims4(oihw, "OIHW")?;
    let src = oihw.data();
    let mut out = vec![0.0; src.len()];
    for oo in 0..o {
        for ii in 0..i {
            for y in 0..h {
                for x in 0..w {
                    out[((y * w + x) * i + ii) * o + oo] = src[((oo * i + ii) * h + y) * w + x];
                }
            }
        }
    }
    Tensor::new([h, w, i, o], out)
}

/// A Keras kernel `(kh, kw, in/groups, out)` as a PyTorch weight `(out, in/groups, kh, kw)`.
///
/// # Errors
/// [`Error::InvalidArgument`] when the tensor is not 4-D.
pub fn kernel_to_oihw(hwio: &Tensor) -> Result<Tensor> {
    let [h, w, i, o] = dims4(hwio, "HWIO")?;
    let src = hwio.data();
    let mut out = vec![0.0; src.len()];
    for y in 0..h {
        for x in 0..w {
            for ii in 0..i {
                for oo in 0..o {
                    out[((oo * i + ii) * h + y) * w + x] = src[((y * w + x) * i + ii) * o + oo];
                }
            }
        }
    }
    Tensor::new([o, i, h, w], out)
}

fn dims4(t: &Tensor, layout: &str) -> Result<[usize; 4]> {
    t.shape()
        .try_into()
        .map_err(|_| Error::InvalidArgument(format!("a {layout} kernel must be 4-D; received shape {:?}", t.shape())))
}
