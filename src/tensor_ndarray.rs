//! `Tensor` to and from `ndarray` (the `ndarray` feature): owned arrays move their buffer without
//! a copy when they are in standard (C) layout; views borrow the tensor's data.

use ndarray::{Array4, ArrayView4};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

fn rank4(t: &Tensor) -> Result<[usize; 4]> {
    t.shape().try_into().map_err(|_| {
        Error::InvalidArgument(format!(
            "an ndarray Array4 needs a 4-D tensor; this one has shape {:?}",
            t.shape()
        ))
    })
}

impl Tensor {
    /// A borrowed 4-D view of the data (no copy).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the tensor is not 4-D.
    pub fn view4(&self) -> Result<ArrayView4<'_, f32>> {
        let shape = rank4(self)?;
        ArrayView4::from_shape(shape, self.data()).map_err(|e| Error::InvalidArgument(e.to_string()))
    }

    /// The tensor as an owned 4-D array; the buffer moves (no copy).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the tensor is not 4-D.
    pub fn into_array4(self) -> Result<Array4<f32>> {
        let shape = rank4(&self)?;
        Array4::from_shape_vec(shape, self.into_data()).map_err(|e| Error::InvalidArgument(e.to_string()))
    }

    /// A tensor from an owned array: its buffer moves when the array is in standard layout
    /// starting at its buffer's first element, and is copied into row-major order otherwise.
    pub fn from_array4(array: Array4<f32>) -> Self {
        let shape = array.shape().to_vec();
        let data = if array.is_standard_layout() {
            match array.into_raw_vec_and_offset() {
                (v, Some(0) | None) if v.len() == shape.iter().product::<usize>() => v,
                (v, offset) => {
                    let start = offset.unwrap_or(0);
                    v[start..start + shape.iter().product::<usize>()].to_vec()
                }
            }
        } else {
            array.iter().copied().collect()
        };
        Tensor::new(shape, data).expect("an ndarray's length is its shape's product")
    }
}

impl From<ArrayView4<'_, f32>> for Tensor {
    /// Copies the view into a row-major tensor.
    fn from(view: ArrayView4<'_, f32>) -> Self {
        Tensor::new(view.shape().to_vec(), view.iter().copied().collect())
            .expect("an ndarray's length is its shape's product")
    }
}

impl From<Array4<f32>> for Tensor {
    fn from(array: Array4<f32>) -> Self {
        Tensor::from_array4(array)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array};

    #[test]
    fn owned_arrays_move_views_borrow_and_other_layouts_copy() {
        let t = Tensor::new([1, 2, 3, 4], (0..24).map(|v| v as f32).collect()).unwrap();
        let ptr = t.data().as_ptr();
        assert_eq!(t.view4().unwrap().as_ptr(), ptr, "a view borrows");
        assert_eq!(t.view4().unwrap()[[0, 1, 2, 3]], 23.0);
        let a = t.clone().into_array4().unwrap();
        let a_ptr = a.as_ptr();
        let back = Tensor::from_array4(a);
        assert_eq!(back.data().as_ptr(), a_ptr, "a standard-layout array moves");
        assert_eq!(back, t);
        // A transposed (non-standard) array is copied into row-major order.
        let arr = Array::from_shape_vec((1, 2, 3, 4), (0..24).map(|v| v as f32).collect()).unwrap();
        let permuted = arr.clone().permuted_axes([0, 3, 1, 2]);
        let p = Tensor::from(permuted.view());
        assert_eq!(p.shape(), &[1, 4, 2, 3]);
        assert_eq!(p.data()[1], arr[[0, 0, 1, 0]]);
        assert_eq!(Tensor::from(permuted), p);
        // A sliced array starting past its buffer's head is copied from the right place.
        let sliced = arr.slice(s![.., 1.., .., ..]).to_owned();
        assert_eq!(Tensor::from(sliced).data()[0], 12.0);
        assert!(Tensor::new([2, 3], vec![0.0; 6]).unwrap().into_array4().is_err());
    }
}
