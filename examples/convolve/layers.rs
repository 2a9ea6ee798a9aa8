//! The layer a command line names: a model file's layer, a config with `.npy` weights, or a config
//! with a weights file (`.weights.h5`, `.safetensors`, `.npz`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use wgpu_conv2d::io::{self, npy, KernelLayout};
use wgpu_conv2d::{Conv2d, Conv2dConfig};

use crate::args::Args;

fn read_config(path: &Path) -> Result<Conv2dConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Conv2dConfig::from_keras_json(&text).with_context(|| path.display().to_string())
}

fn is_hdf5(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89HDF\r\n\x1a\n"))
}

/// The layer of the command line, built with its weights (`--print-config` needs only the config).
pub fn load(args: &Args) -> Result<Conv2d> {
    if let Some(model) = &args.model {
        if args.config.is_some() || args.kernel.is_some() || args.weights.is_some() {
            bail!("give --model --layer NAME, or --config with its weights, not both");
        }
        let name = args
            .layer
            .as_deref()
            .context("--model needs --layer NAME (convolve --model FILE --list-layers lists them)")?;
        return Ok(Conv2d::from_keras_file(model, name)?);
    }
    let config_path = args
        .config
        .as_deref()
        .context("a layer is required: --model FILE --layer NAME, or --config layer.json with --kernel or --weights")?;
    let config = read_config(config_path)?;
    if args.print_config {
        return Ok(Conv2d::new(config)?);
    }
    match (&args.kernel, &args.weights) {
        (Some(_), Some(_)) => bail!("give --kernel (with --bias) or --weights, not both"),
        (Some(kernel), None) => {
            let mut layer = Conv2d::new(config)?;
            let mut weights = vec![npy::read(kernel)?];
            if let Some(bias) = &args.bias {
                weights.push(npy::read(bias)?);
            }
            layer.set_weights(&weights)?;
            Ok(layer)
        }
        (None, Some(weights)) if is_hdf5(weights) => {
            let group = args
                .layer
                .as_deref()
                .context("--weights .h5 needs --layer GROUP, the layer's group as h5py shows it (layers/conv2d_3)")?;
            Ok(io::layer_from_weights_h5(config, weights, group)?)
        }
        (None, Some(weights)) => {
            let layout = args
                .layout
                .map_or_else(|| KernelLayout::default_for(weights), Into::into);
            Ok(io::layer_from_tensors(config, weights, args.layer.as_deref(), layout)?)
        }
        (None, None) => bail!("--config needs its weights: --kernel k.npy [--bias b.npy], or --weights FILE"),
    }
}

/// Every file the layer is read from (outputs must not be any of them).
pub fn inputs(args: &Args) -> Vec<PathBuf> {
    [
        &args.model,
        &args.config,
        &args.kernel,
        &args.bias,
        &args.weights,
        &args.input,
        &args.compare,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect()
}

/// `convolve --model FILE --list-layers`.
pub fn list(args: &Args) -> Result<()> {
    let model = args.model.as_deref().context("--list-layers needs --model FILE")?;
    let layers = io::list_conv2d_layers(model)?;
    println!(
        "{:<28} {:<16} {:<8} {:<7} {:<6} {:<14} path",
        "name", "kernel", "strides", "padding", "groups", "activation"
    );
    for l in &layers {
        let c = &l.config;
        println!(
            "{:<28} {:<16} {:<8} {:<7} {:<6} {:<14} {}",
            l.name,
            format!("{:?}", l.kernel_shape),
            format!("{}x{}", c.strides[0], c.strides[1]),
            c.padding.keras_name(),
            c.groups,
            c.activation.keras_name(),
            l.weights_group
        );
    }
    if layers.is_empty() {
        println!("(no Conv2D layers)");
    }
    Ok(())
}
