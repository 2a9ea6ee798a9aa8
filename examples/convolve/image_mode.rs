//! Image mode: a preset or any Keras layer on PNG/JPEG files, one or many. Images of one size and
//! channel count run as one batch; each layer is built (and its weights uploaded) once per channel
//! count for the whole run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, DataFormat, Tensor};

use crate::args::Args;
use crate::{image_io, layers, outputs, presets};

/// Input bytes one batch may hold (f32 pixels); larger groups run as several batches.
const BATCH_BYTES: usize = 256 << 20;

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
        let keras = args.config.is_some() || args.model.is_some();
        match (&args.preset, keras) {
            (Some(_), true) => bail!("give either --preset or a layer (--config, --model), not both"),
            (Some(name), false) => {
                presets::layer(name, 3, args.sigma, args.size)?; // reject an unknown name before any file is read
                Ok(Self::Preset {
                    name: name.clone(),
                    sigma: args.sigma,
                    size: args.size,
                })
            }
            (None, true) => {
                let layer = layers::load(args)?;
                if layer.config().data_format != DataFormat::ChannelsLast {
                    bail!("image mode feeds channels_last images; the layer has data_format=channels_first");
                }
                Ok(Self::Keras(Box::new(layer)))
            }
            (None, false) => {
                bail!("image mode needs --preset NAME or --config/--kernel (or --model/--layer); see --help")
            }
        }
    }

    /// The layer for images with `channels` channels, and whether it is the Sobel pair.
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
    for (_, output) in &jobs {
        if image_io::extension(output) != "npy" && !image_io::is_image(output) {
            bail!("{}: the output must end in .png, .jpg, .jpeg or .npy", output.display());
        }
    }
    let mut read: Vec<PathBuf> = layers::inputs(args);
    read.extend(jobs.iter().map(|(input, _)| input.clone()));
    outputs::check(&read, &jobs)?;
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let device = args.device()?;
    let bar = progress_bar(jobs.len(), args.quiet);
    // Group by size (image headers only), then decode a group and batch it by channel count.
    let mut by_size: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
    for (i, (input, _)) in jobs.iter().enumerate() {
        by_size.entry(image_io::dimensions(input)?).or_default().push(i);
    }
    let mut layers: HashMap<usize, (Conv2d, bool)> = HashMap::new();
    let (mut seconds, mut plan, mut done, mut batches) = (0.0, String::new(), 0, 0);
    for indices in by_size.values() {
        let mut by_channels: BTreeMap<usize, Vec<(usize, Tensor)>> = BTreeMap::new();
        for &i in indices {
            let image = image_io::read(&jobs[i].0)?;
            by_channels.entry(image.shape()[3]).or_default().push((i, image));
        }
        for (channels, images) in by_channels {
            let (layer, sobel) = match layers.entry(channels) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(filter.layer(channels, &jobs[images[0].0].0)?),
            };
            let (layer, sobel) = (&*layer, *sobel);
            let per_batch = (BATCH_BYTES / (images[0].1.len() * 4).max(1)).max(1);
            for batch in images.chunks(per_batch) {
                let stacked = stack(batch.iter().map(|(_, t)| t))?;
                plan = layer.describe_plan(&device, stacked.shape())?;
                let start = Instant::now();
                let names: Vec<String> = batch.iter().map(|(i, _)| jobs[*i].0.display().to_string()).collect();
                let out = layer.forward_on(&device, &stacked).with_context(|| names.join(", "))?;
                seconds += start.elapsed().as_secs_f64();
                batches += 1;
                for ((i, _), one) in batch.iter().zip(unstack(&out)?) {
                    let one = if sobel { presets::sobel_magnitude(&one)? } else { one };
                    write(&jobs[*i].1, &one, args.normalize)?;
                    done += 1;
                    bar.set_message(
                        jobs[*i]
                            .0
                            .file_name()
                            .map(|n| n.to_string_lossy().to_string())
                            .unwrap_or_default(),
                    );
                    bar.inc(1);
                }
            }
        }
    }
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "{done}/{} image(s) in {batches} batch(es) on {}; kernel: {plan}; {:.1} ms per image (convolution, \
             first-call compile included)",
            jobs.len(),
            device.describe(),
            seconds * 1e3 / done.max(1) as f64
        );
    }
    Ok(())
}

fn progress_bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet || len < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} images, {per_sec}, ETA {eta} {msg}")
            .expect("a valid template")
            .progress_chars("#>."),
    );
    bar
}

/// `(1, H, W, C)` images of one shape as one `(N, H, W, C)` batch.
fn stack<'a>(images: impl Iterator<Item = &'a Tensor>) -> Result<Tensor> {
    let mut data = Vec::new();
    let mut shape = [0usize; 4];
    for t in images {
        let s = t.shape();
        shape = [shape[0] + 1, s[1], s[2], s[3]];
        data.extend_from_slice(t.data());
    }
    Ok(Tensor::new(shape, data)?)
}

/// A `(N, H, W, C)` batch as N `(1, H, W, C)` tensors.
fn unstack(batch: &Tensor) -> Result<Vec<Tensor>> {
    let s = batch.shape();
    let per = s[1] * s[2] * s[3];
    batch
        .data()
        .chunks(per.max(1))
        .take(s[0])
        .map(|d| Ok(Tensor::new([1, s[1], s[2], s[3]], d.to_vec())?))
        .collect()
}

fn write(output: &Path, out: &Tensor, normalize: bool) -> Result<()> {
    outputs::atomically(output, |tmp| {
        if image_io::extension(output) == "npy" {
            Ok(npy::write(tmp, out)?)
        } else {
            image_io::write(tmp, out, normalize)
        }
    })
}

/// (input, output) pairs: `INPUT OUTPUT`, or every image named or found in folders with `--out-dir`.
fn jobs(args: &Args) -> Result<Vec<(PathBuf, PathBuf)>> {
    let Some(dir) = &args.out_dir else {
        return match args.positional.as_slice() {
            [input, output] => Ok(vec![(input.clone(), output.clone())]),
            _ => bail!("image mode takes INPUT OUTPUT, or inputs with --out-dir DIR; see --help"),
        };
    };
    let mut inputs = Vec::new();
    for path in &args.positional {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| image_io::is_image(p))
                .collect();
            found.sort();
            inputs.extend(found);
        } else {
            inputs.push(path.clone());
        }
    }
    if inputs.is_empty() {
        bail!("no input images (PNG or JPEG) given for --out-dir {}", dir.display());
    }
    Ok(inputs
        .into_iter()
        .map(|input| {
            let name = input
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let output = dir.join(format!("{name}.png"));
            (input, output)
        })
        .collect())
}
