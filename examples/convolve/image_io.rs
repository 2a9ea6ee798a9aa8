//! Images to and from `(1, H, W, C)` tensors with values in [0, 1].

use std::path::Path;

use anyhow::{Context, Result};
use image::{DynamicImage, GrayImage, ImageBuffer};
use wgpu_conv2d::Tensor;

/// Reads a PNG or JPEG as a batch of one, channels_last: gray → 1 channel, RGB → 3, with alpha → 4.
pub fn read(path: &Path) -> Result<Tensor> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .decode()
        .with_context(|| format!("{} is not a readable PNG or JPEG", path.display()))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (channels, data): (usize, Vec<f32>) = match img.color().channel_count() {
        1 => (1, img.to_luma32f().into_raw()),
        2 | 4 => (4, img.to_rgba32f().into_raw()),
        _ => (3, img.to_rgb32f().into_raw()),
    };
    Ok(Tensor::new([1, h, w, channels], data)?)
}

/// An image's (width, height) from its header, without decoding it.
pub fn dimensions(path: &Path) -> Result<(u32, u32)> {
    image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .into_dimensions()
        .with_context(|| format!("{} is not a readable PNG or JPEG", path.display()))
}

/// Per-channel scale to [0, 1] (`normalize`), else a clamp.
fn to_unit(values: &[f32], channels: usize, normalize: bool) -> Vec<f32> {
    if !normalize {
        return values.iter().map(|v| v.clamp(0.0, 1.0)).collect();
    }
    let mut lo = vec![f32::INFINITY; channels];
    let mut hi = vec![f32::NEG_INFINITY; channels];
    for (i, v) in values.iter().enumerate() {
        lo[i % channels] = lo[i % channels].min(*v);
        hi[i % channels] = hi[i % channels].max(*v);
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = i % channels;
            let span = hi[c] - lo[c];
            if span > 0.0 {
                (v - lo[c]) / span
            } else {
                0.0
            }
        })
        .collect()
}

fn to_u8(v: f32) -> u8 {
    (v * 255.0).round() as u8
}

/// Writes a `(1, H, W, C)` output: an image for 1, 3 or 4 channels, else a grid of per-channel
/// grayscale tiles. The format follows the extension (PNG or JPEG).
pub fn write(path: &Path, tensor: &Tensor, normalize: bool) -> Result<()> {
    let s = tensor.shape();
    let (h, w, c) = (s[1] as u32, s[2] as u32, s[3]);
    let unit = to_unit(tensor.data(), c, normalize);
    let bytes: Vec<u8> = unit.iter().map(|v| to_u8(*v)).collect();
    let img = match c {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, bytes).context("image size")?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, bytes).context("image size")?),
        4 => DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, bytes).context("image size")?),
        _ => DynamicImage::ImageLuma8(tile_grid(&bytes, s[1], s[2], c)),
    };
    let img = if matches!(extension(path).as_str(), "jpg" | "jpeg") && c == 4 {
        DynamicImage::ImageRgb8(img.to_rgb8()) // JPEG has no alpha
    } else {
        img
    };
    img.save(path)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Channels laid out as grayscale tiles, `ceil(sqrt(C))` per row, with a 2-pixel gap.
fn tile_grid(bytes: &[u8], h: usize, w: usize, c: usize) -> GrayImage {
    let cols = (c as f64).sqrt().ceil() as usize;
    let rows = c.div_ceil(cols);
    let gap = 2;
    let (gw, gh) = (cols * (w + gap) - gap, rows * (h + gap) - gap);
    let mut grid = GrayImage::new(gw as u32, gh as u32);
    for ch in 0..c {
        let (ox, oy) = ((ch % cols) * (w + gap), (ch / cols) * (h + gap));
        for y in 0..h {
            for x in 0..w {
                grid.put_pixel(
                    (ox + x) as u32,
                    (oy + y) as u32,
                    image::Luma([bytes[(y * w + x) * c + ch]]),
                );
            }
        }
    }
    grid
}

/// The lower-cased extension.
pub fn extension(path: &Path) -> String {
    path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase()
}

/// True for the file names image mode reads.
pub fn is_image(path: &Path) -> bool {
    matches!(extension(path).as_str(), "png" | "jpg" | "jpeg")
}
