//! The reference convolution: direct loops in Keras's semantics, accumulated in f64.
//! It defines "correct" for the GPU kernels, so it favours plainness over speed.

use crate::conv::geometry::Conv2dGeometry;
use crate::conv::DataFormat;
use crate::keras::activation::{apply_last_axis, Activation};
use crate::keras::dtype::FloatType;

/// Cross-correlation of `input` (in `geom.data_format`) with an HWIO `kernel`, plus `bias`,
/// in f64. Groups take channel slices: group `g` reads input channels
/// `[g·Cin/G, (g+1)·Cin/G)` and writes filters `[g·F/G, (g+1)·F/G)`. Padding is implicit zeros.
pub fn conv2d(geom: &Conv2dGeometry, input: &[f32], kernel: &[f32], bias: Option<&[f32]>) -> Vec<f64> {
    let g = geom;
    let (cin_g, f_g) = (g.cin_per_group(), g.filters_per_group());
    let channels_last = g.data_format == DataFormat::ChannelsLast;
    let in_index = |n: usize, y: usize, x: usize, c: usize| {
        if channels_last {
            ((n * g.in_h + y) * g.in_w + x) * g.in_c + c
        } else {
            ((n * g.in_c + c) * g.in_h + y) * g.in_w + x
        }
    };
    let out_index = |n: usize, y: usize, x: usize, f: usize| {
        if channels_last {
            ((n * g.out_h + y) * g.out_w + x) * g.filters + f
        } else {
            ((n * g.filters + f) * g.out_h + y) * g.out_w + x
        }
    };
    let mut out = vec![0.0f64; g.batch * g.out_h * g.out_w * g.filters];
    for n in 0..g.batch {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for f in 0..g.filters {
                    let group = f / f_g;
                    let mut acc = bias.map_or(0.0, |b| b[f] as f64);
                    for ky in 0..g.kernel[0] {
                        // Input row = oy·s + ky·d − pad_top, skipped when it falls in the padding.
                        let iy = (oy * g.strides[0] + ky * g.dilation[0]).wrapping_sub(g.pad[0]);
                        if iy >= g.in_h {
                            continue;
                        }
                        for kx in 0..g.kernel[1] {
                            let ix = (ox * g.strides[1] + kx * g.dilation[1]).wrapping_sub(g.pad[2]);
                            if ix >= g.in_w {
                                continue;
                            }
                            for c in 0..cin_g {
                                let x = input[in_index(n, iy, ix, group * cin_g + c)] as f64;
                                let w = kernel[((ky * g.kernel[1] + kx) * cin_g + c) * g.filters + f] as f64;
                                acc += x * w;
                            }
                        }
                    }
                    out[out_index(n, oy, ox, f)] = acc;
                }
            }
        }
    }
    out
}

/// The layer's forward pass in a policy's compute dtype, as Keras runs it: the input, kernel and
/// bias are already rounded to `dtype`; the convolution accumulates in f64 and is rounded, the bias
/// add is rounded, and the activation (in f64 on the rounded values) is rounded. With float32
/// the output is the unrounded f64 result, as [`conv2d`] + [`activate`] give it.
pub fn forward_in(
    geom: &Conv2dGeometry,
    (input, kernel, bias): (&[f32], &[f32], Option<&[f32]>),
    activation: Activation,
    dtype: FloatType,
) -> (Vec<f64>, [usize; 4]) {
    if dtype == FloatType::Float32 {
        let raw = conv2d(geom, input, kernel, bias);
        return activate(activation, &raw, geom.output_shape());
    }
    let mut raw = conv2d(geom, input, kernel, None);
    let plane = geom.out_h * geom.out_w;
    for (i, v) in raw.iter_mut().enumerate() {
        *v = dtype.round(*v);
        if let Some(b) = bias {
            let f = match geom.data_format {
                DataFormat::ChannelsLast => i % geom.filters,
                DataFormat::ChannelsFirst => i / plane % geom.filters,
            };
            *v = dtype.round(*v + b[f] as f64);
        }
    }
    let (mut values, shape) = activate(activation, &raw, geom.output_shape());
    values.iter_mut().for_each(|v| *v = dtype.round(*v));
    (values, shape)
}

/// Applies `activation` to an output of `shape` (4-D, any layout): element-wise, or along the
/// last axis for softmax/log_softmax/sparsemax/glu. Returns the new values and shape
/// (glu halves the last axis).
pub fn activate(activation: Activation, values: &[f64], shape: [usize; 4]) -> (Vec<f64>, [usize; 4]) {
    if !activation.is_axis_reduction() {
        return (values.iter().map(|&v| activation.apply(v)).collect(), shape);
    }
    let lane_len = shape[3];
    let out_shape = activation.output_shape(shape);
    let out_len = out_shape[3];
    let lanes = values.len().checked_div(lane_len).unwrap_or(0);
    let mut out = vec![0.0; lanes * out_len];
    for l in 0..lanes {
        apply_last_axis(
            activation,
            &values[l * lane_len..(l + 1) * lane_len],
            &mut out[l * out_len..(l + 1) * out_len],
        );
    }
    (out, out_shape)
}
