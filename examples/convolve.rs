//! Runs a Keras Conv2D layer on `.npy` tensors: the interface people use to check the crate
//! against their own Keras layers.
//!
//! ```text
//! convolve --config layer.json --kernel kernel.npy [--bias bias.npy] --input x.npy --output y.npy
//!          [--device cpu|gpu|auto] [--compare expected.npy]
//! convolve --config layer.json --print-config
//! ```

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, Device, Tensor};

const USAGE: &str = "usage:
  convolve --config layer.json --kernel kernel.npy [--bias bias.npy] --input x.npy --output y.npy
           [--device cpu|gpu|auto] [--compare expected.npy]
  convolve --config layer.json --print-config

  --config      the JSON of Keras's layer.get_config() (or a saved model's Conv2D entry)
  --kernel      the kernel as layer.get_weights()[0]: (kh, kw, Cin/groups, filters), float32/float64 .npy
  --bias        the bias as layer.get_weights()[1], when the layer uses one
  --input       the input in the config's data_format, float32/float64 .npy
  --output      where to write the output (float32 .npy)
  --device      cpu, gpu or auto (default auto)
  --compare     print the largest difference from an expected output .npy
  --print-config  print the config as this crate saves it (Keras's JSON) and exit";

#[derive(Default)]
struct Args {
    config: Option<String>,
    kernel: Option<String>,
    bias: Option<String>,
    input: Option<String>,
    output: Option<String>,
    compare: Option<String>,
    device: Option<String>,
    print_config: bool,
}

fn parse_args() -> Result<Args> {
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
            "--print-config" => args.print_config = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(args)
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let config_path = args
        .config
        .as_deref()
        .with_context(|| format!("--config is required\n\n{USAGE}"))?;
    let text = std::fs::read_to_string(config_path).with_context(|| format!("cannot read {config_path}"))?;
    let mut layer = Conv2d::from_keras_json(&text).with_context(|| config_path.to_string())?;
    if args.print_config {
        println!("{}", layer.config().to_keras_json());
        return Ok(());
    }
    let device = match args.device.as_deref().unwrap_or("auto") {
        "cpu" => Device::cpu(),
        "gpu" => Device::gpu().context("--device gpu")?,
        "auto" => Device::auto(),
        other => bail!("--device must be cpu, gpu or auto; received {other:?}"),
    };
    let need = |v: &Option<String>, flag: &str| v.clone().with_context(|| format!("{flag} is required\n\n{USAGE}"));
    let (kernel_path, input_path, output_path) = (
        need(&args.kernel, "--kernel")?,
        need(&args.input, "--input")?,
        need(&args.output, "--output")?,
    );
    let mut weights = vec![npy::read(&kernel_path)?];
    if let Some(bias) = &args.bias {
        weights.push(npy::read(bias)?);
    }
    layer.set_weights(&weights)?;
    let input = npy::read(&input_path)?;
    let start = Instant::now();
    let output = layer.forward_on(&device, &input)?;
    let elapsed = start.elapsed();
    npy::write(&output_path, &output)?;
    let geometry = layer.geometry(input.shape())?;
    eprintln!(
        "{} {:?} -> {:?} on {} in {:.2} ms (first call, pipeline compile included), {:.3} GFLOP",
        layer.config().name,
        input.shape(),
        output.shape(),
        device.describe(),
        elapsed.as_secs_f64() * 1e3,
        geometry.flops() as f64 / 1e9
    );
    if let Some(expected) = &args.compare {
        report_difference(&output, &npy::read(expected)?)?;
    }
    Ok(())
}

fn report_difference(output: &Tensor, expected: &Tensor) -> Result<()> {
    if output.shape() != expected.shape() {
        bail!(
            "--compare: output shape {:?} differs from expected shape {:?}",
            output.shape(),
            expected.shape()
        );
    }
    let scale = expected.data().iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
    let worst = output
        .data()
        .iter()
        .zip(expected.data())
        .fold(0.0f64, |m, (a, b)| m.max(f64::from((a - b).abs())));
    eprintln!(
        "max |output - expected| = {worst:.3e} ({:.3e} of the largest magnitude)",
        worst / scale.max(1e-30)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
