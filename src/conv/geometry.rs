//! Every number derived from a layer and an input shape: the single source of truth for CPU and GPU.

use crate::conv::spec::{ConvParams, DataFormat, Padding};
use crate::error::{Error, Result};

/// Output length and padding of one spatial axis (Keras `compute_conv_output_shape` + TF's `same` split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisGeometry {
    /// Output length.
    pub output: usize,
    /// Zero rows/columns before the input (top or left).
    pub pad_before: usize,
    /// Zero rows/columns after the input (bottom or right): gets the extra pixel when the total is odd.
    pub pad_after: usize,
}

/// One spatial axis: `None` when `valid` padding leaves no output (Keras's "zero or negative" case).
///
/// `same`: `out = ceil(in / s)`, `total = max(0, (out − 1)·s + (k − 1)·d + 1 − in)`, `before = total / 2`.
/// `valid`: `out = floor((in − (k − 1)·d − 1) / s) + 1`, which must be positive.
pub fn axis_geometry(
    input: usize,
    kernel: u32,
    stride: u32,
    dilation: u32,
    padding: Padding,
) -> Result<Option<AxisGeometry>> {
    let (k, s, d) = (kernel as u64, stride as u64, dilation as u64);
    let inp = input as u64;
    let eff_k = (k - 1)
        .checked_mul(d)
        .and_then(|v| v.checked_add(1))
        .ok_or(Error::SizeOverflow("effective kernel size (k - 1) * d + 1"))?;
    match padding {
        Padding::Valid => {
            if inp < eff_k {
                return Ok(None);
            }
            let out = (inp - eff_k) / s + 1;
            Ok(Some(AxisGeometry {
                output: to_usize(out)?,
                pad_before: 0,
                pad_after: 0,
            }))
        }
        Padding::Same => {
            let out = inp.div_ceil(s);
            let needed = out
                .saturating_sub(1)
                .checked_mul(s)
                .and_then(|v| v.checked_add(eff_k))
                .ok_or(Error::SizeOverflow("`same` padding (out - 1) * s + effective kernel"))?;
            let total = needed.saturating_sub(inp);
            let total = if out == 0 { 0 } else { total };
            Ok(Some(AxisGeometry {
                output: to_usize(out)?,
                pad_before: to_usize(total / 2)?,
                pad_after: to_usize(total - total / 2)?,
            }))
        }
    }
}

fn to_usize(v: u64) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::SizeOverflow("a size"))
}

/// The complete geometry of one convolution call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Batch size N.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels (all groups).
    pub in_c: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels (`filters`).
    pub filters: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides (rows, columns).
    pub strides: [usize; 2],
    /// Dilation (rows, columns).
    pub dilation: [usize; 2],
    /// Zero padding: top, bottom, left, right.
    pub pad: [usize; 4],
    /// Channel groups.
    pub groups: usize,
    /// Memory layout of input and output.
    pub data_format: DataFormat,
}

impl Conv2dGeometry {
    /// Geometry for a 4-D input shape in `params.data_format`, with Keras's build-time checks
    /// (channels divisible by groups, positive `valid` output) and checked size products.
    ///
    /// # Errors
    /// [`Error::InputChannelsNotDivisibleByGroups`], [`Error::OutputSizeNonPositive`],
    /// [`Error::SizeOverflow`].
    pub fn new(params: &ConvParams, input_shape: [usize; 4]) -> Result<Self> {
        let (n, h, w, c) = match params.data_format {
            DataFormat::ChannelsLast => (input_shape[0], input_shape[1], input_shape[2], input_shape[3]),
            DataFormat::ChannelsFirst => (input_shape[0], input_shape[2], input_shape[3], input_shape[1]),
        };
        let groups = params.groups as usize;
        if c % groups != 0 {
            return Err(Error::InputChannelsNotDivisibleByGroups {
                groups: params.groups,
                channels: c,
                input_shape: input_shape.to_vec(),
            });
        }
        let axis = |len, i: usize| {
            axis_geometry(
                len,
                params.kernel_size[i],
                params.strides[i],
                params.dilation_rate[i],
                params.padding,
            )
        };
        let (rows, cols) = match (axis(h, 0)?, axis(w, 1)?) {
            (Some(r), Some(c)) => (r, c),
            _ => {
                return Err(Error::OutputSizeNonPositive {
                    input_shape: input_shape.to_vec(),
                    kernel_shape: vec![
                        params.kernel_size[0] as usize,
                        params.kernel_size[1] as usize,
                        c,
                        params.filters as usize,
                    ],
                    dilation_rate: params.dilation_rate,
                    strides: params.strides,
                })
            }
        };
        let geometry = Self {
            batch: n,
            in_h: h,
            in_w: w,
            in_c: c,
            out_h: rows.output,
            out_w: cols.output,
            filters: params.filters as usize,
            kernel: params.kernel_size.map(|v| v as usize),
            strides: params.strides.map(|v| v as usize),
            dilation: params.dilation_rate.map(|v| v as usize),
            pad: [rows.pad_before, rows.pad_after, cols.pad_before, cols.pad_after],
            groups,
            data_format: params.data_format,
        };
        // Every element count the paths index with must fit, with room for a byte size.
        geometry.input_len()?;
        geometry.output_len()?;
        geometry.kernel_len()?;
        Ok(geometry)
    }

    /// Input channels per group.
    pub fn cin_per_group(&self) -> usize {
        self.in_c / self.groups
    }

    /// Output channels per group.
    pub fn filters_per_group(&self) -> usize {
        self.filters / self.groups
    }

    /// The GEMM depth `kh·kw·Cin/groups`.
    pub fn reduction_len(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.cin_per_group()
    }

    /// Output shape in the layer's data format.
    pub fn output_shape(&self) -> [usize; 4] {
        match self.data_format {
            DataFormat::ChannelsLast => [self.batch, self.out_h, self.out_w, self.filters],
            DataFormat::ChannelsFirst => [self.batch, self.filters, self.out_h, self.out_w],
        }
    }

    /// Kernel shape, HWIO: `(kh, kw, Cin/groups, filters)`.
    pub fn kernel_shape(&self) -> [usize; 4] {
        [self.kernel[0], self.kernel[1], self.cin_per_group(), self.filters]
    }

    /// Input element count (checked).
    pub fn input_len(&self) -> Result<usize> {
        checked_product(&[self.batch, self.in_h, self.in_w, self.in_c], "input size")
    }

    /// Output element count (checked).
    pub fn output_len(&self) -> Result<usize> {
        checked_product(&self.output_shape(), "output size")
    }

    /// Kernel element count (checked).
    pub fn kernel_len(&self) -> Result<usize> {
        checked_product(&self.kernel_shape(), "kernel size")
    }

    /// Multiply-adds times two: `2·N·Ho·Wo·F·(Cin/groups)·kh·kw`.
    pub fn flops(&self) -> u64 {
        2 * (self.batch * self.out_h * self.out_w * self.filters) as u64 * self.reduction_len() as u64
    }
}

/// Product of dimensions whose byte size (×4, f32) also fits in `u64` and `usize`.
pub(crate) fn checked_product(dims: &[usize], what: &'static str) -> Result<usize> {
    let elements = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(Error::SizeOverflow(what))?;
    elements.checked_mul(8).ok_or(Error::SizeOverflow(what))?;
    Ok(elements)
}

/// The input shape as exactly 4-D, or Keras's message for the rank it has.
///
/// # Errors
/// [`Error::InputRank`].
pub fn four_d(layer: &str, input_shape: &[usize], params: &ConvParams) -> Result<[usize; 4]> {
    use crate::error::format::py_shape;
    match input_shape.len() {
        4 => Ok([input_shape[0], input_shape[1], input_shape[2], input_shape[3]]),
        n if n < 4 => Err(Error::InputRank(format!(
            "Input 0 with name 'None' of layer '{layer}' is incompatible with the layer: expected min_ndim=4, found ndim={n}. Full shape received: {}",
            py_shape(input_shape)
        ))),
        _ => {
            let c = match params.data_format {
                DataFormat::ChannelsLast => input_shape[input_shape.len() - 1],
                DataFormat::ChannelsFirst => input_shape[1],
            };
            let kernel = [
                params.kernel_size[0] as usize,
                params.kernel_size[1] as usize,
                c,
                params.filters as usize,
            ];
            Err(Error::InputRank(format!(
                "Kernel shape must have the same length as input, but received kernel of shape {} and input of shape {}.",
                py_shape(&kernel),
                py_shape(input_shape)
            )))
        }
    }
}
