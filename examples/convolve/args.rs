//! Command-line arguments of the `convolve` example (clap).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use wgpu_conv2d::io::KernelLayout;
use wgpu_conv2d::Device;

const AFTER_HELP: &str = "Modes:
  convolve INPUT.png OUTPUT.png --preset NAME [--sigma S] [--size N]
  convolve INPUT.png OUTPUT.(png|jpg|npy) (LAYER)
  convolve IMAGES_OR_FOLDERS... --out-dir DIR (--preset NAME | LAYER)
  convolve (LAYER) --input x.npy --output y.npy [--compare expected.npy]
  convolve --model model.keras --list-layers
  convolve --config layer.json --print-config

LAYER is one of:
  --model model.keras|model.h5 --layer NAME          a Conv2D layer of a saved Keras model
  --config layer.json --kernel k.npy [--bias b.npy]  a get_config() JSON and get_weights() arrays
  --config layer.json --weights model.weights.h5 --layer layers/conv2d_3
                                                     a Keras 3 weights file (the group as h5py shows it)
  --config layer.json --weights w.safetensors|w.npz [--layer PREFIX] [--layout oihw|hwio]
                                                     named tensors (PREFIX.weight / PREFIX.bias, kernel / bias)

Presets: gaussian (--sigma, default 2; --size, default 2*ceil(3*sigma)+1), box (--size, default 5),
sharpen, emboss, sobel (gradient magnitude), laplacian, identity.

No output overwrites an input: convolve refuses, before any work, an output path that is one of its
inputs, and two inputs that would write the same output (a.png and b/a.png into one --out-dir).
Each output is written to a temporary file beside it and renamed into place.";

/// The element type of tensor mode's output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputDtypeArg {
    /// float32 `.npy` (a half-precision layer's values are exact in it).
    Float32,
    /// The layer's compute dtype: `<f2` for float16 policies; float32 for bfloat16 (npy has no
    /// bfloat16 code) and float32 layers.
    Keep,
}

/// Where the layer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    /// The f64 CPU reference path.
    Cpu,
    /// A GPU (an error when there is no adapter).
    Gpu,
    /// The GPU if an adapter exists, else the CPU.
    Auto,
}

/// A kernel layout on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// Keras's (kh, kw, Cin/groups, filters).
    Hwio,
    /// PyTorch's (filters, Cin/groups, kh, kw).
    Oihw,
}

impl From<LayoutArg> for KernelLayout {
    fn from(l: LayoutArg) -> Self {
        match l {
            LayoutArg::Hwio => KernelLayout::Hwio,
            LayoutArg::Oihw => KernelLayout::Oihw,
        }
    }
}

fn positive(v: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && s.is_finite())
        .ok_or_else(|| format!("--sigma must be a positive number; received {v:?}"))
}

fn size(v: &str) -> Result<usize, String> {
    v.parse::<usize>()
        .ok()
        .filter(|s| (1..=255).contains(s))
        .ok_or_else(|| format!("--size must be an integer from 1 to 255; received {v:?}"))
}

/// A Keras Conv2D layer on images (presets or any layer) or on `.npy` tensors, on the GPU or the CPU.
#[derive(Debug, Parser)]
#[command(name = "convolve", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// Image mode: INPUT OUTPUT, or inputs (files or folders) with --out-dir.
    pub positional: Vec<PathBuf>,
    /// Image mode: a built-in filter.
    #[arg(long)]
    pub preset: Option<String>,
    /// Gaussian preset: the standard deviation in pixels.
    #[arg(long, value_parser = positive)]
    pub sigma: Option<f64>,
    /// Gaussian and box presets: the kernel size.
    #[arg(long, value_parser = size)]
    pub size: Option<usize>,
    /// Image mode with many inputs: the folder the outputs go to (as NAME.png).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Image mode: stretch each output channel's range to [0, 1] instead of clamping.
    #[arg(long)]
    pub normalize: bool,
    /// A saved Keras model (.keras, or a legacy full-model .h5).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The layer's name (--model), weights group (--weights .h5) or tensor prefix (--weights .safetensors/.npz).
    #[arg(long)]
    pub layer: Option<String>,
    /// Print every Conv2D layer of --model: name, kernel shape, strides, padding, groups, activation.
    #[arg(long)]
    pub list_layers: bool,
    /// The JSON of Keras's layer.get_config() (or a saved model's Conv2D entry).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The kernel as layer.get_weights()[0]: (kh, kw, Cin/groups, filters), float32/float64 .npy.
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// The bias as layer.get_weights()[1], when the layer uses one.
    #[arg(long)]
    pub bias: Option<PathBuf>,
    /// The weights of --config: a Keras 3 .weights.h5, .safetensors or .npz.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The kernel layout of --weights .safetensors/.npz (default: oihw for .safetensors, hwio for .npz).
    #[arg(long, value_enum)]
    pub layout: Option<LayoutArg>,
    /// Tensor mode: the input in the layer's data_format, float32/float64 .npy.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Tensor mode: where to write the output (float32 .npy unless --output-dtype keep).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Tensor mode: the output file's element type.
    #[arg(long, value_enum, default_value_t = OutputDtypeArg::Float32)]
    pub output_dtype: OutputDtypeArg,
    /// Tensor mode: print the largest difference from an expected output .npy.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Where the layer runs.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
    /// Print the config as this crate saves it (Keras's JSON) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Print nothing but errors (no log lines, progress or summary).
    #[arg(long, short)]
    pub quiet: bool,
}

impl Args {
    /// Tensor mode: `.npy` in and out.
    pub fn is_tensor_mode(&self) -> bool {
        self.input.is_some()
            || self.output.is_some()
            || self.print_config
            || (self.positional.is_empty() && !self.list_layers)
    }

    /// The device the command line asked for.
    pub fn device(&self) -> Result<Device> {
        Ok(match self.device {
            DeviceArg::Cpu => Device::cpu(),
            DeviceArg::Gpu => Device::gpu().context("--device gpu")?,
            DeviceArg::Auto => Device::auto(),
        })
    }
}
