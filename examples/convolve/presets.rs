//! Image filters as real Conv2D layers: depthwise (`groups = channels`) kernels with `same` padding.

use anyhow::{bail, Result};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Tensor};

/// The preset names, for messages.
pub const NAMES: &str = "gaussian, box, sharpen, emboss, sobel, laplacian, identity";

/// A preset's layer for an image of `channels` channels, and whether its output is the Sobel pair
/// (x and y gradients per channel) that `sobel_magnitude` combines.
pub fn layer(name: &str, channels: usize, sigma: Option<f64>, size: Option<usize>) -> Result<(Conv2d, bool)> {
    let (taps, bias, sobel): (Vec<Vec<f64>>, f32, bool) = match name {
        "gaussian" | "blur" => {
            let sigma = sigma.unwrap_or(2.0);
            let size = size.unwrap_or(2 * (3.0 * sigma).ceil() as usize + 1);
            (vec![gaussian(size, sigma)], 0.0, false)
        }
        "box" => {
            let n = size.unwrap_or(5);
            (vec![vec![1.0 / (n * n) as f64; n * n]], 0.0, false)
        }
        "sharpen" => (vec![vec![0., -1., 0., -1., 5., -1., 0., -1., 0.]], 0.0, false),
        "emboss" => (vec![vec![-2., -1., 0., -1., 1., 1., 0., 1., 2.]], 0.0, false),
        // A Laplacian is signed: a 0.5 bias shows edges on mid-grey instead of clamping them away.
        "laplacian" => (vec![vec![0., 1., 0., 1., -4., 1., 0., 1., 0.]], 0.5, false),
        "identity" => (vec![vec![1.0]], 0.0, false),
        "sobel" => (
            vec![
                vec![-1., 0., 1., -2., 0., 2., -1., 0., 1.],
                vec![-1., -2., -1., 0., 0., 0., 1., 2., 1.],
            ],
            0.0,
            true,
        ),
        other => bail!("unknown preset {other:?}; the presets are {NAMES}"),
    };
    let k = (taps[0].len() as f64).sqrt() as usize;
    let per_channel = taps.len();
    let filters = channels * per_channel;
    let config = Conv2dConfig::builder(filters as i64, k as i64)
        .padding("same")
        .groups(channels as i64)
        .name(&format!("{name}_preset"))
        .build()?;
    // HWIO kernel (k, k, 1, filters): filter c·per_channel + j applies tap set j to channel c.
    let mut kernel = vec![0.0f32; k * k * filters];
    for pos in 0..k * k {
        for c in 0..channels {
            for (j, t) in taps.iter().enumerate() {
                kernel[pos * filters + c * per_channel + j] = t[pos] as f32;
            }
        }
    }
    let layer = Conv2d::with_weights(
        config,
        Tensor::new([k, k, 1, filters], kernel)?,
        Some(Tensor::new([filters], vec![bias; filters])?),
    )?;
    Ok((layer, sobel))
}

/// A normalised `size × size` Gaussian.
fn gaussian(size: usize, sigma: f64) -> Vec<f64> {
    let c = (size as f64 - 1.0) / 2.0;
    let mut taps: Vec<f64> = (0..size * size)
        .map(|i| {
            let (y, x) = ((i / size) as f64 - c, (i % size) as f64 - c);
            (-(x * x + y * y) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= sum);
    taps
}

/// `sqrt(gx² + gy²)` per channel from the Sobel layer's `(1, H, W, 2·C)` output.
pub fn sobel_magnitude(pairs: &Tensor) -> Result<Tensor> {
    let s = pairs.shape();
    let channels = s[3] / 2;
    let data: Vec<f32> = pairs
        .data()
        .chunks(2)
        .map(|g| (g[0] * g[0] + g[1] * g[1]).sqrt())
        .collect();
    Ok(Tensor::new([s[0], s[1], s[2], channels], data)?)
}
