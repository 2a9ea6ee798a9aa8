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

    /// A tensor of float16 values (exact in f32): a half-precision model's weights or data.
    ///
    /// # Errors
    /// As [`Tensor::new`].
    pub fn from_f16(shape: impl Into<Vec<usize>>, values: &[half::f16]) -> Result<Self> {
        Self::new(shape, values.iter().map(|v| v.to_f32()).collect())
    }

    /// A tensor of bfloat16 values (exact in f32).
    ///
    /// # Errors
    /// As [`Tensor::new`].
    pub fn from_bf16(shape: impl Into<Vec<usize>>, values: &[half::bf16]) -> Result<Self> {
        Self::new(shape, values.iter().map(|v| v.to_f32()).collect())
    }

    /// The values rounded to float16 (to nearest even; inf past 65504), as a float16 layer's
    /// output already is.
    pub fn to_f16(&self) -> Vec<half::f16> {
        self.data.iter().map(|v| half::f16::from_f32(*v)).collect()
    }

    /// The values rounded to bfloat16 (to nearest even).
    pub fn to_bf16(&self) -> Vec<half::bf16> {
        self.data.iter().map(|v| half::bf16::from_f32(*v)).collect()
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
