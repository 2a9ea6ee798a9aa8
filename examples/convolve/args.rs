//! Command-line arguments of the `convolve` example.

use anyhow::{bail, Context, Result};
use wgpu_conv2d::Device;

pub const USAGE: &str = "usage:
  convolve INPUT.png OUTPUT.png --preset NAME [--sigma S] [--size N] [--device cpu|gpu|auto] [--normalize]
  convolve INPUT.png OUTPUT.(png|jpg|npy) --config layer.json --kernel k.npy [--bias b.npy] [--normalize]
  convolve IMAGES_OR_FOLDERS... --out-dir DIR (--preset NAME | --config ... --kernel ...)
  convolve --config layer.json --kernel kernel.npy [--bias bias.npy] --input x.npy --output y.npy
           [--device cpu|gpu|auto] [--compare expected.npy]
  convolve --config layer.json --print-config

  presets: gaussian (--sigma, default 2; --size, default 2*ceil(3*sigma)+1), box (--size, default 5),
           sharpen, emboss, sobel (gradient magnitude), laplacian, identity
  --config      the JSON of Keras's layer.get_config() (or a saved model's Conv2D entry)
  --kernel      the kernel as layer.get_weights()[0]: (kh, kw, Cin/groups, filters), float32/float64 .npy
  --bias        the bias as layer.get_weights()[1], when the layer uses one
  --input       tensor mode: the input in the config's data_format, float32/float64 .npy
  --output      tensor mode: where to write the output (float32 .npy)
  --device      cpu, gpu or auto (default auto: the GPU if an adapter exists)
  --compare     tensor mode: print the largest difference from an expected output .npy
  --normalize   image mode: stretch each output channel's range to [0, 1] instead of clamping
  --print-config  print the config as this crate saves it (Keras's JSON) and exit";

/// Everything the command line said.
#[derive(Default)]
pub struct Args {
    pub config: Option<String>,
    pub kernel: Option<String>,
    pub bias: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub compare: Option<String>,
    pub device: Option<String>,
    pub preset: Option<String>,
    pub sigma: Option<f64>,
    pub size: Option<usize>,
    pub out_dir: Option<String>,
    pub normalize: bool,
    pub print_config: bool,
    pub positional: Vec<String>,
}

impl Args {
    /// Tensor mode: `.npy` in and out with a Keras config.
    pub fn is_tensor_mode(&self) -> bool {
        self.input.is_some() || self.print_config || (self.positional.is_empty() && self.config.is_some())
    }

    /// The device the command line asked for.
    pub fn device(&self) -> Result<Device> {
        Ok(match self.device.as_deref().unwrap_or("auto") {
            "cpu" => Device::cpu(),
            "gpu" => Device::gpu().context("--device gpu")?,
            "auto" => Device::auto(),
            other => bail!("--device must be cpu, gpu or auto; received {other:?}"),
        })
    }
}

/// Parses the process's arguments.
pub fn parse() -> Result<Args> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value\n\n{USAGE}"));
        match flag.as_str() {
            "--config" => args.config = Some(value()?),
            "--kernel" => args.kernel = Some(value()?),
            "--bias" => args.bias = Some(value()?),
            "--input" => args.input = Some(value()?),
            "--output" => args.output = Some(value()?),
            "--compare" => args.compare = Some(value()?),
            "--device" => args.device = Some(value()?),
            "--preset" => args.preset = Some(value()?),
            "--out-dir" => args.out_dir = Some(value()?),
            "--sigma" => {
                let v = value()?;
                args.sigma = Some(
                    v.parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0 && s.is_finite())
                        .with_context(|| format!("--sigma must be a positive number; received {v:?}"))?,
                );
            }
            "--size" => {
                let v = value()?;
                args.size = Some(
                    v.parse()
                        .ok()
                        .filter(|s: &usize| *s > 0 && *s <= 255)
                        .with_context(|| format!("--size must be an integer from 1 to 255; received {v:?}"))?,
                );
            }
            "--normalize" => args.normalize = true,
            "--print-config" => args.print_config = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other if other.starts_with("--") => bail!("unknown argument {other:?}\n\n{USAGE}"),
            _ => args.positional.push(flag),
        }
    }
    Ok(args)
}
