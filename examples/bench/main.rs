//! Benchmarks every standard shape (`bench/shapes.json`) as a Keras layer and writes the
//! peers' JSON format.
//!
//! `cargo run --release --example bench -- --shapes bench/shapes.json --out results.json
//!  [--device gpu|cpu] [--only NAME,...] [--runs N] [--family auto|subgroup|tiles|direct]`
//!
//! `--family` forces a kernel family (the default picks by adapter), to compare them on one machine.
//! `--network bench/networks/resnet50_last.json` runs a network's Conv2D layers instead.
//! `--tuning off|cached|measure` sets the context's tuning (each row then says the kernel it ran
//! and the ms tuning took); `--compile-times` prints the first call's time with a cold and with
//! a warm persistent pipeline cache, in two child processes; `--table a.json,b.json` prints
//! result files side by side; `--wait auto|block|MICROSECONDS` sets how waits poll.

mod compile;
mod network;
mod table;

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use wgpu_conv2d::{
    Conv2d, Conv2dConfig, Device, GpuContext, GpuOptions, GpuTensor, KernelFamily, Tensor, Tuning, WaitMode,
};

struct Shape {
    name: String,
    n: usize,
    h: usize,
    w: usize,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    groups: usize,
    padding: String,
}

fn shapes(path: &str) -> Result<Vec<Shape>> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?)?;
    let get = |s: &Value, k: &str| {
        s[k].as_u64()
            .map(|v| v as usize)
            .with_context(|| format!("shape field {k}"))
    };
    v["shapes"]
        .as_array()
        .context("no `shapes` array")?
        .iter()
        .map(|s| {
            Ok(Shape {
                name: s["name"].as_str().context("name")?.to_string(),
                n: get(s, "n")?,
                h: get(s, "h")?,
                w: get(s, "w")?,
                cin: get(s, "cin")?,
                cout: get(s, "cout")?,
                k: get(s, "k")?,
                stride: get(s, "stride")?,
                dilation: get(s, "dilation")?,
                groups: get(s, "groups")?,
                padding: s["padding"].as_str().context("padding")?.to_string(),
            })
        })
        .collect()
}

/// Uniform(-1, 1) from a fixed seed: benchmarks run on random data, never zeros.
pub(crate) fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn layer(s: &Shape, dtype: &str) -> Result<Conv2d> {
    let config = Conv2dConfig::builder(s.cout as i64, s.k as i64)
        .dtype(dtype)
        .strides(s.stride as i64)
        .dilation_rate(s.dilation as i64)
        .groups(s.groups as i64)
        .padding(&s.padding)
        .name(&s.name)
        .build()?;
    let kernel = Tensor::new(
        [s.k, s.k, s.cin / s.groups, s.cout],
        random(s.k * s.k * s.cin / s.groups * s.cout, 1),
    )?;
    let bias = Tensor::new([s.cout], random(s.cout, 2))?;
    Ok(Conv2d::with_weights(config, kernel, Some(bias))?)
}

/// The first call's ms on `device` (with the input resident on a GPU, rounded to the layer's
/// compute dtype and stored as its plan stores it, as a previous layer of the policy leaves it), then `timer`'s (median, min) ms of the same call; `timer` is told whether it times a
/// GPU. Each GPU call ends in a sync.
pub(crate) fn measure(
    device: &Device,
    layer: &Conv2d,
    input: &Tensor,
    mut timer: impl FnMut(bool, &mut dyn FnMut() -> Result<()>) -> Result<(f64, f64)>,
) -> Result<(f64, (f64, f64))> {
    match device {
        Device::Gpu(ctx) => {
            let resident = GpuTensor::upload_rounded(ctx, input, layer.config().dtype.compute_dtype())?;
            let mut call = || -> Result<()> {
                layer.forward_gpu(&resident)?;
                Ok(ctx.wait_idle()?)
            };
            let t = Instant::now();
            call()?;
            let first = t.elapsed().as_secs_f64() * 1e3;
            Ok((first, timer(true, &mut call)?))
        }
        Device::Cpu => {
            let mut call = || -> Result<()> { Ok(layer.forward(input).map(drop)?) };
            let t = Instant::now();
            call()?;
            let first = t.elapsed().as_secs_f64() * 1e3;
            Ok((first, timer(false, &mut call)?))
        }
    }
}

/// The tensor buffer bytes (input, intermediates, output) one warm resident call takes on a GPU,
/// from `GpuContext::stats()`: the input as the plan stores it plus what the call acquires.
fn tensor_bytes_per_call(device: &Device, layer: &Conv2d, input: &Tensor) -> Result<u64> {
    let Device::Gpu(ctx) = device else { return Ok(0) };
    let resident = GpuTensor::upload_rounded(ctx, input, layer.config().dtype.compute_dtype())?;
    let element = resident.element_type();
    let before = ctx.stats().tensor_bytes_acquired;
    layer.forward_gpu(&resident)?;
    ctx.wait_idle()?;
    Ok(ctx.stats().tensor_bytes_acquired - before + element.bytes() * input.len() as u64)
}

/// Times `call` after a warm-up of at least 3 calls and 1 s; at least `runs` calls and 2 s.
fn time(runs: usize, mut call: impl FnMut() -> Result<()>) -> Result<(f64, f64)> {
    let start = Instant::now();
    let mut warm = 0;
    while warm < 3 || start.elapsed() < Duration::from_secs(1) {
        call()?;
        warm += 1;
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < runs || (start.elapsed() < Duration::from_secs(2) && samples.len() < 200) {
        let t = Instant::now();
        call()?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    Ok((samples[samples.len() / 2], samples[0]))
}

/// Which kernel family the GPU context may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FamilyArg {
    /// By adapter.
    Auto,
    /// The subgroup-broadcast GEMMs.
    Subgroup,
    /// The workgroup-memory tiled GEMM.
    Tiles,
    /// The direct kernel for dense layers.
    Direct,
}

/// Benchmarks the standard shapes as Keras layers (median and min of many warm runs).
#[derive(Debug, clap::Parser)]
#[command(name = "bench", about)]
struct Cli {
    /// The shapes file.
    #[arg(long, default_value = "bench/shapes.json")]
    shapes: String,
    /// Where to write the results as JSON (the peers' format).
    #[arg(long)]
    out: Option<String>,
    /// gpu or cpu.
    #[arg(long, default_value = "gpu")]
    device: String,
    /// Only these shapes (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Timed runs at the least (after warm-up; at least 2 s of them). With `--network`: exactly
    /// this many per layer, after 2 warm-up calls.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// The kernel family.
    #[arg(long, value_enum, default_value_t = FamilyArg::Auto)]
    family: FamilyArg,
    /// A network's layer list (bench/networks/*.json): its Conv2D layers one by one, input resident.
    #[arg(long)]
    network: Option<String>,
    /// Dtype policies to run each shape in (comma-separated: float32, mixed_float16, float16,
    /// mixed_bfloat16, bfloat16), side by side.
    #[arg(long, value_delimiter = ',', default_value = "float32")]
    dtype: Vec<String>,
    /// Only these registry algorithms (comma-separated ids; the direct kernel runs the rest).
    #[arg(long, value_delimiter = ',')]
    algorithms: Option<Vec<String>>,
    /// Tuning: off (the registry's rules), cached (stored choices), measure (tune what is missing).
    #[arg(long, default_value = "cached")]
    tuning: String,
    /// How waits for the GPU poll: auto (poll briefly on CPU adapters), block, or a number of
    /// microseconds to poll before blocking.
    #[arg(long, default_value = "auto")]
    wait: String,
    /// Print the first call's compile time with a cold and a warm pipeline cache (two processes).
    #[arg(long)]
    compile_times: bool,
    /// Print these result files side by side as a Markdown table, and run nothing.
    #[arg(long, value_delimiter = ',')]
    table: Option<Vec<String>>,
    /// Time only the first call of each shape (used by --compile-times).
    #[arg(long, hide = true)]
    first_only: bool,
}

fn main() -> Result<()> {
    let cli = <Cli as clap::Parser>::parse();
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Info)
        .parse_env("RUST_LOG")
        .init();
    let (shapes_path, out, device_name, only, runs) = (
        cli.shapes.clone(),
        cli.out.clone(),
        cli.device.clone(),
        cli.only.clone(),
        cli.runs,
    );
    let family = match cli.family {
        FamilyArg::Auto => KernelFamily::Auto,
        FamilyArg::Subgroup => KernelFamily::SubgroupBroadcast,
        FamilyArg::Tiles => KernelFamily::WorkgroupTiles,
        FamilyArg::Direct => KernelFamily::Direct,
    };
    if let Some(files) = &cli.table {
        return table::print(files);
    }
    if cli.compile_times {
        compile::run(&shapes_path, only.as_deref().unwrap_or(&[]))?;
        return Ok(());
    }
    let Some(tuning) = Tuning::parse(&cli.tuning) else {
        bail!("--tuning must be off, cached or measure; received {:?}", cli.tuning);
    };
    let wait_mode = match cli.wait.as_str() {
        "auto" => WaitMode::Auto,
        "block" => WaitMode::Block,
        us => match us.parse::<u64>() {
            Ok(us) => WaitMode::Poll(Duration::from_micros(us)),
            Err(_) => bail!("--wait must be auto, block or microseconds to poll; received {us:?}"),
        },
    };
    let device = match device_name.as_str() {
        "gpu" => Device::Gpu(GpuContext::new(&GpuOptions {
            kernel_family: family,
            wait_mode,
            tuning,
            algorithms: cli.algorithms.as_ref().map(|names| {
                names
                    .iter()
                    .filter_map(|n| wgpu_conv2d::gpu::kernels::registry().iter().find(|a| a.name() == n))
                    .map(|a| a.id())
                    .collect()
            }),
            ..GpuOptions::default()
        })?),
        "cpu" => Device::cpu(),
        other => bail!("--device must be gpu or cpu; received {other:?}"),
    };
    if let Some(path) = &cli.network {
        let doc = network::run(path, &device, runs)?;
        if let Some(out) = out {
            std::fs::write(&out, serde_json::to_string_pretty(&doc)?).with_context(|| format!("cannot write {out}"))?;
            println!("wrote {out}");
        }
        return Ok(());
    }
    println!("device: {}", device.describe());
    if let Device::Gpu(ctx) = &device {
        println!("tuning: {:?}", ctx.tuning());
    }
    println!(
        "{:<14} {:<14} {:>7} {:>10} {:>10} {:>9} {:>10} {:>9} {:>9}  kernel",
        "shape", "dtype", "GFLOP", "median ms", "min ms", "GFLOP/s", "first ms", "MB/call", "tune ms"
    );
    let mut results = Vec::new();
    for s in shapes(&shapes_path)? {
        if only.as_ref().is_some_and(|o| !o.contains(&s.name)) {
            continue;
        }
        for dtype in &cli.dtype {
            let layer = layer(&s, dtype)?;
            let shape = [s.n, s.h, s.w, s.cin];
            let input = Tensor::new(shape, random(shape.iter().product(), 3))?;
            let flops = layer.geometry(&shape)?.flops();
            let tuned = |d: &Device| match d {
                Device::Gpu(ctx) => ctx.stats().tuning_micros,
                Device::Cpu => 0,
            };
            let tuning_before = tuned(&device);
            // Planning tunes the shape's class first where --tuning measure finds it new.
            let kernel = layer.describe_plan(&device, &shape)?;
            let algorithm = layer.plan_on(&device, &shape)?.map_or("cpu", |p| p.algorithm.0);
            let tuning_ms = (tuned(&device) - tuning_before) as f64 / 1e3;
            let (first_ms, (median, min)) = measure(&device, &layer, &input, |gpu, call| {
                if cli.first_only {
                    return Ok((f64::NAN, f64::NAN));
                }
                time(if gpu { runs } else { runs.min(3) }, call)
            })?;
            let bytes = tensor_bytes_per_call(&device, &layer, &input)?;
            let gflop = flops as f64 / 1e9;
            println!(
                "{:<14} {:<14} {:>7.3} {:>10.3} {:>10.3} {:>9.2} {:>10.1} {:>9.2} {:>9.0}  {kernel}",
                s.name,
                dtype,
                gflop,
                median,
                min,
                gflop / median * 1e3,
                first_ms,
                bytes as f64 / 1e6,
                tuning_ms
            );
            results.push(json!({
                "shape": s.name, "dtype": dtype, "median_ms": median, "min_ms": min,
                "gflops_median": gflop / median * 1e3, "gflops_min": gflop / min * 1e3,
                "flops": flops, "kernel": kernel, "algorithm": algorithm, "first_call_ms": first_ms,
                "tensor_bytes_per_call": bytes, "tuning_ms": tuning_ms,
            }));
        }
    }
    if let Some(out) = out {
        let doc = json!({"peer": "wgpu-conv2d", "device": device.describe(), "results": results});
        std::fs::write(&out, serde_json::to_string_pretty(&doc)?).with_context(|| format!("cannot write {out}"))?;
        println!("wrote {out}");
    }
    Ok(())
}
