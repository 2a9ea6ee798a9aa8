//! Tensor mode: a Keras Conv2D layer on `.npy` tensors, the interface people use to check the
//! crate against their own Keras layers.
//!
//! ```text
//! convolve --config layer.json --kernel kernel.npy [--bias bias.npy] --input x.npy --output y.npy
//!          [--device cpu|gpu|auto] [--compare expected.npy]
//! convolve --config layer.json --print-config
//! ```

use std::time::Instant;

use anyhow::{bail, Context, Result};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, Tensor};

use crate::args::{Args, USAGE};

/// Reads the layer of `--config` with `--kernel`/`--bias` as its weights.
pub fn load_layer(args: &Args) -> Result<Conv2d> {
    let config_path = args
        .config
        .as_deref()
        .with_context(|| format!("--config is required\n\n{USAGE}"))?;
    let text = std::fs::read_to_string(config_path).with_context(|| format!("cannot read {config_path}"))?;
    let mut layer = Conv2d::from_keras_json(&text).with_context(|| config_path.to_string())?;
    if args.print_config {
        return Ok(layer);
    }
    let kernel_path = args
        .kernel
        .as_deref()
        .with_context(|| format!("--kernel is required\n\n{USAGE}"))?;
    let mut weights = vec![npy::read(kernel_path)?];
    if let Some(bias) = &args.bias {
        weights.push(npy::read(bias)?);
    }
    layer.set_weights(&weights)?;
    Ok(layer)
}

/// Runs tensor mode.
pub fn run(args: &Args) -> Result<()> {
    let layer = load_layer(args)?;
    if args.print_config {
        println!("{}", layer.config().to_keras_json());
        return Ok(());
    }
    let device = args.device()?;
    let need = |v: &Option<String>, flag: &str| v.clone().with_context(|| format!("{flag} is required\n\n{USAGE}"));
    let (input_path, output_path) = (need(&args.input, "--input")?, need(&args.output, "--output")?);
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
