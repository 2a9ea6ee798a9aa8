//! Image mode: a preset or any Keras layer on PNG/JPEG files, one or many.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, DataFormat, Tensor};

use crate::args::{Args, USAGE};
use crate::{image_io, presets, tensor_mode};

/// The layer to run, built once per channel count.
enum Filter {
    Preset {
        name: String,
        sigma: Option<f64>,
        size: Option<usize>,
    },
    Keras(Box<Conv2d>),
}

impl Filter {
    fn from_args(args: &Args) -> Result<Self> {
        match (&args.preset, &args.config) {
            (Some(_), Some(_)) => bail!("give either --preset or --config, not both"),
            (Some(name), None) => {
                presets::layer(name, 3, args.sigma, args.size)?; // reject an unknown name before any file is read
                Ok(Self::Preset {
                    name: name.clone(),
                    sigma: args.sigma,
                    size: args.size,
                })
            }
            (None, Some(_)) => {
                let layer = tensor_mode::load_layer(args)?;
                if layer.config().data_format != DataFormat::ChannelsLast {
                    bail!("image mode feeds channels_last images; the config has data_format=channels_first");
                }
                Ok(Self::Keras(Box::new(layer)))
            }
            (None, None) => bail!("image mode needs --preset NAME or --config/--kernel\n\n{USAGE}"),
        }
    }

    /// The layer for an image with `channels` channels, and whether it is the Sobel pair.
    fn layer(&self, channels: usize, image: &Path) -> Result<(Conv2d, bool)> {
        match self {
            Self::Preset { name, sigma, size } => presets::layer(name, channels, *sigma, *size),
            Self::Keras(layer) => {
                let expected = layer.input_channels().unwrap_or(0);
                if expected != channels {
                    bail!(
                        "{} has {channels} channel(s) but the layer's kernel expects {expected} input channels \
                         (kernel shape {:?}, groups {})",
                        image.display(),
                        layer.get_weights()?[0].shape(),
                        layer.config().groups
                    );
                }
                Ok((layer.as_ref().clone(), false))
            }
        }
    }
}

/// Runs image mode.
pub fn run(args: &Args) -> Result<()> {
    let filter = Filter::from_args(args)?;
    let jobs = jobs(args)?;
    let device = args.device()?;
    let mut total = 0.0;
    let mut plan = String::new();
    let show_progress = jobs.len() > 1;
    for (i, (input, output)) in jobs.iter().enumerate() {
        if show_progress {
            progress(i, jobs.len(), input);
        }
        let image = image_io::read(input)?;
        let (layer, sobel) = filter.layer(image.shape()[3], input)?;
        plan = layer.describe_plan(&device, image.shape())?;
        let start = Instant::now();
        let mut out = layer
            .forward_on(&device, &image)
            .with_context(|| input.display().to_string())?;
        total += start.elapsed().as_secs_f64();
        if sobel {
            out = presets::sobel_magnitude(&out)?;
        }
        write(output, &out, args.normalize)?;
    }
    if show_progress {
        progress(jobs.len(), jobs.len(), Path::new(""));
        eprintln!();
    }
    eprintln!(
        "{} image(s) on {}; kernel: {plan}; {:.1} ms per image (convolution, first-call compile included)",
        jobs.len(),
        device.describe(),
        total * 1e3 / jobs.len().max(1) as f64
    );
    Ok(())
}

fn write(output: &Path, out: &Tensor, normalize: bool) -> Result<()> {
    if image_io::extension(output) == "npy" {
        npy::write(output, out)?;
        return Ok(());
    }
    if !image_io::is_image(output) {
        bail!("{}: the output must end in .png, .jpg, .jpeg or .npy", output.display());
    }
    image_io::write(output, out, normalize)
}

/// (input, output) pairs: `INPUT OUTPUT`, or every image named or found in folders with `--out-dir`.
fn jobs(args: &Args) -> Result<Vec<(PathBuf, PathBuf)>> {
    let Some(dir) = &args.out_dir else {
        return match args.positional.as_slice() {
            [input, output] => Ok(vec![(PathBuf::from(input), PathBuf::from(output))]),
            _ => bail!("image mode takes INPUT OUTPUT, or inputs with --out-dir DIR\n\n{USAGE}"),
        };
    };
    let mut inputs = Vec::new();
    for p in &args.positional {
        let path = PathBuf::from(p);
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| image_io::is_image(p))
                .collect();
            found.sort();
            inputs.extend(found);
        } else {
            inputs.push(path);
        }
    }
    if inputs.is_empty() {
        bail!("no input images (PNG or JPEG) given for --out-dir {dir}");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    Ok(inputs
        .into_iter()
        .map(|input| {
            let name = input
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let output = Path::new(dir).join(format!("{name}.png"));
            (input, output)
        })
        .collect())
}

/// `[#####.....] 3/10 name` on one rewritten stderr line.
fn progress(done: usize, total: usize, current: &Path) {
    let width = 30;
    let filled = done * width / total.max(1);
    eprint!(
        "\r[{}{}] {done}/{total} {:<40}",
        "#".repeat(filled),
        ".".repeat(width - filled),
        current
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    );
    let _ = std::io::stderr().flush();
}
