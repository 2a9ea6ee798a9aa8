//! `bench --network FILE`: every Conv2D layer of a network (a layer list from
//! `bench/networks/generate.py`: each layer's `get_config()` and input shape), layer by layer with
//! the input resident, printing each layer's plan, ms and GFLOP/s and the network's total.

use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::{json, Value};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Tensor};

use crate::{measure, random};

/// Median and min ms of `runs` calls after `warm` calls, each ending in a device sync.
fn time_layer(warm: usize, runs: usize, mut call: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    for _ in 0..warm {
        call()?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        call()?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    Ok((samples[samples.len() / 2], samples[0]))
}

/// Runs the network file at `path` on `device`; returns the JSON rows and the totals.
pub fn run(path: &str, device: &Device, runs: usize) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let doc: Value = serde_json::from_str(&text).with_context(|| format!("{path} is not JSON"))?;
    let layers = doc["layers"].as_array().context("no `layers` array")?;
    let network = doc["network"].as_str().unwrap_or(path);
    let format = doc["data_format"].as_str().unwrap_or("channels_last");
    println!(
        "network: {network} ({format}), {} Conv2D layers, device {}",
        layers.len(),
        device.describe()
    );
    println!(
        "{:<28} {:<20} {:>7} {:>9} {:>9} {:>8} {:>9}  plan",
        "layer", "input", "GFLOP", "median ms", "min ms", "GFLOP/s", "first ms"
    );
    let (mut total_median, mut total_min, mut total_flops, mut total_first) = (0.0, 0.0, 0u64, 0.0);
    let mut rows = Vec::new();
    let mut direct = 0;
    for (i, entry) in layers.iter().enumerate() {
        let config =
            Conv2dConfig::from_keras_value(&entry["config"]).with_context(|| format!("layer {i} of {path}"))?;
        let shape: Vec<usize> = entry["input_shape"]
            .as_array()
            .context("input_shape")?
            .iter()
            .map(|d| d.as_u64().map(|v| v as usize).context("input_shape entry"))
            .collect::<Result<_>>()?;
        let mut layer = Conv2d::new(config)?;
        layer.build(&shape, Some(i as u64))?;
        // Random weights, never zeros (the initializers' zero bias would be fine, but be uniform).
        let mut weights = layer.get_weights()?;
        for (j, w) in weights.iter_mut().enumerate() {
            *w = Tensor::new(w.shape().to_vec(), random(w.len(), 100 + (i * 7 + j) as u64))?;
        }
        layer.set_weights(&weights)?;
        let input = Tensor::new(shape.clone(), random(shape.iter().product(), i as u64))?;
        let flops = layer.geometry(&shape)?.flops();
        let plan = layer.describe_plan(device, &shape)?;
        if let Some(p) = layer.plan_on(device, &shape)? {
            direct += usize::from(p.algorithm.0 == "direct");
        }
        let (first, (median, min)) = measure(device, &layer, &input, |gpu, call| {
            if gpu {
                time_layer(2, runs, call)
            } else {
                time_layer(0, 1, call)
            }
        })?;
        let gflop = flops as f64 / 1e9;
        println!(
            "{:<28} {:<20} {:>7.3} {:>9.3} {:>9.3} {:>8.2} {:>9.1}  {plan}",
            entry["name"].as_str().unwrap_or("?"),
            format!("{shape:?}"),
            gflop,
            median,
            min,
            gflop / median * 1e3,
            first
        );
        total_median += median;
        total_min += min;
        total_first += first;
        total_flops += flops;
        rows.push(json!({
            "layer": entry["name"], "input_shape": shape, "median_ms": median, "min_ms": min,
            "flops": flops, "kernel": plan, "first_call_ms": first, "runs": runs,
        }));
    }
    let gflop = total_flops as f64 / 1e9;
    println!(
        "total: {gflop:.3} GFLOP, {total_median:.1} ms (sum of medians; {:.2} GFLOP/s), {total_min:.1} ms (sum of \
         minimums), first calls {total_first:.0} ms; {direct} layer(s) on the direct kernel",
        gflop / total_median * 1e3
    );
    Ok(json!({
        "peer": "wgpu-conv2d", "network": network, "data_format": format, "device": device.describe(),
        "total_median_ms": total_median, "total_min_ms": total_min, "total_flops": total_flops,
        "direct_layers": direct, "runs_per_layer": runs, "layers": rows,
    }))
}
