//! Tensor mode: a Keras Conv2D layer on `.npy` tensors, the interface people use to check the
//! crate against their own Keras layers (see `convolve --help` for the ways to name the layer).

use std::time::Instant;

use anyhow::{bail, Context, Result};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::FloatType;
use wgpu_conv2d::Tensor;

use crate::args::{Args, OutputDtypeArg};
use crate::{layers, outputs};

/// Runs tensor mode.
pub fn run(args: &Args) -> Result<()> {
    let layer = layers::load(args)?;
    if args.print_config {
        println!("{}", layer.config().to_keras_json());
        return Ok(());
    }
    let input_path = args.input.as_deref().context("tensor mode needs --input x.npy")?;
    let output_path = args.output.as_deref().context("tensor mode needs --output y.npy")?;
    outputs::check(
        &layers::inputs(args),
        &[(input_path.to_path_buf(), output_path.to_path_buf())],
    )?;
    let device = args.device()?;
    let input = npy::read(input_path)?;
    let plan = layer.describe_plan(&device, input.shape())?;
    let start = Instant::now();
    let output = layer.forward_on(&device, &input)?;
    let elapsed = start.elapsed();
    // A float16 layer's output can be kept as <f2; everything else is written as float32.
    let file_dtype = match (args.output_dtype, layer.config().dtype.compute_dtype()) {
        (OutputDtypeArg::Keep, FloatType::Float16) => npy::NpyDtype::Float16,
        _ => npy::NpyDtype::Float32,
    };
    outputs::atomically(output_path, |tmp| Ok(npy::write_as(tmp, &output, file_dtype)?))?;
    let geometry = layer.geometry(input.shape())?;
    if !args.quiet {
        eprintln!(
            "{} ({}) {:?} -> {:?} on {} in {:.2} ms (first call, pipeline compile included), {:.3} GFLOP; plan: {plan}",
            layer.config().name,
            layer.config().dtype,
            input.shape(),
            output.shape(),
            device.describe(),
            elapsed.as_secs_f64() * 1e3,
            geometry.flops() as f64 / 1e9
        );
    }
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
