//! A host tensor: a row-major f32 buffer with its shape, checked to agree.

use crate::conv::geometry::checked_product;
use crate::error::{Error, Result};

/// Row-major f32 data and its shape; the length always equals the product of the shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `shape` holding `data`.
    ///
    /// # Errors
    /// [`Error::BufferLength`] when `data.len()` is not the product of `shape`;
    /// [`Error::SizeOverflow`] when that product overflows.
    pub fn new(shape: impl Into<Vec<usize>>, data: Vec<f32>) -> Result<Self> {
        Self::named("tensor", shape, data)
    }

    /// As [`Tensor::new`], naming the argument in the error (`input`, `kernel`, ...).
    ///
    /// # Errors
    /// As [`Tensor::new`].
    pub fn named(argument: &'static str, shape: impl Into<Vec<usize>>, data: Vec<f32>) -> Result<Self> {
        let shape = shape.into();
        let needed = checked_product(&shape, "tensor size")?;
        if data.len() != needed {
            return Err(Error::BufferLength {
                argument,
                len: data.len(),
                shape,
                needed,
            });
        }
        Ok(Self { shape, data })
    }

    /// A tensor of zeros.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] when the element count overflows.
    pub fn zeros(shape: impl Into<Vec<usize>>) -> Result<Self> {
        let shape = shape.into();
        let len = checked_product(&shape, "tensor size")?;
        Ok(Self {
            shape,
            data: vec![0.0; len],
        })
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The data, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The data, row-major, by value.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Element count.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element (a zero dimension).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
