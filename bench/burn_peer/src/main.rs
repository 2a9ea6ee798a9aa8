//! burn (wgpu backend, WGSL) conv2d peer benchmark on the shared shape set.
//!
//! Layout: Keras channels_last semantics. burn's conv2d API is NCHW, but its cubecl backend
//! permutes to NHWC internally (a view), so by default we store input/weights physically
//! as NHWC / [Cout,Kh,Kw,Cin/g] and hand burn permuted *views*: no layout copies are timed.
//! `--nchw` stores them NCHW-contiguous instead (burn then copies to NHWC inside the timed op).
//!
//! Padding: Keras "same" (extra pad at bottom/right when odd) via ConvOptions::new_with_padding.
//! Timing: each iteration = conv2d + device.sync(); warm-up (includes autotune) then
//! median/min over >=10 timed runs. Correctness: 256 sampled output points vs a CPU fp64
//! reference of the Keras semantics.
//!
//! Usage (from bench/burn_peer): cargo run --release -- [--nchw] [--only NAME[,NAME]]
//!        [--shapes ../shapes.json] [--out ../results/burn_wgpu.json]
//!
//! Copied from the shared peer runners and extended for network layer lists: a shape may give
//! `kh`/`kw`, `sh`/`sw`, `dh`/`dw` (non-square kernels, strides, dilations) instead of `k`,
//! `stride`, `dilation`.

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, DeviceKind, Tensor, TensorData};
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Shape {
    name: String,
    n: usize,
    h: usize,
    w: usize,
    cin: usize,
    cout: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    groups: usize,
    same: bool,
}

/// Reads the shared shape set (bench/shapes.json), the single source of truth.
fn load_shapes(path: &str) -> Vec<Shape> {
    let txt = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&txt).expect("shapes.json");
    let u = |o: &serde_json::Value, k: &str| o[k].as_u64().unwrap_or_else(|| panic!("field {k}")) as usize;
    // A per-axis field, or the square one.
    let ax = |o: &serde_json::Value, k: &str, square: &str| o[k].as_u64().map_or_else(|| u(o, square), |v| v as usize);
    v["shapes"]
        .as_array()
        .expect("shapes array")
        .iter()
        .map(|o| Shape {
            name: o["name"].as_str().unwrap().to_string(),
            n: u(o, "n"),
            h: u(o, "h"),
            w: u(o, "w"),
            cin: u(o, "cin"),
            cout: u(o, "cout"),
            kh: ax(o, "kh", "k"),
            kw: ax(o, "kw", "k"),
            sh: ax(o, "sh", "stride"),
            sw: ax(o, "sw", "stride"),
            dh: ax(o, "dh", "dilation"),
            dw: ax(o, "dw", "dilation"),
            groups: u(o, "groups"),
            same: o["padding"].as_str() == Some("same"),
        })
        .collect()
}

/// Keras/TF padding: returns (out, pad_begin, pad_end) for one spatial dim.
fn keras_pad(i: usize, k: usize, s: usize, d: usize, same: bool) -> (usize, usize, usize) {
    let ke = (k - 1) * d + 1;
    if same {
        let o = i.div_ceil(s);
        let total = ((o - 1) * s + ke).saturating_sub(i);
        (o, total / 2, total - total / 2)
    } else {
        ((i - ke) / s + 1, 0, 0)
    }
}

fn flops(s: &Shape) -> f64 {
    let (ho, _, _) = keras_pad(s.h, s.kh, s.sh, s.dh, s.same);
    let (wo, _, _) = keras_pad(s.w, s.kw, s.sw, s.dw, s.same);
    2.0 * (s.n * ho * wo * s.cout * (s.cin / s.groups) * s.kh * s.kw) as f64
}

/// Deterministic uniform(-1,1) fill (xorshift), so every run sees the same data.
fn fill(len: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nchw = args.iter().any(|a| a == "--nchw");
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .map(|i| args[i + 1].split(',').map(String::from).collect());
    let out_path = args
        .iter()
        .position(|a| a == "--out")
        .map(|i| args[i + 1].clone())
        .unwrap_or_else(|| {
            if cfg!(feature = "spirv") { "../results/burn_vulkan_spirv.json" } else { "../results/burn_wgpu.json" }.to_string()
        });
    let shapes_path = args
        .iter()
        .position(|a| a == "--shapes")
        .map(|i| args[i + 1].clone())
        .unwrap_or_else(|| "../shapes.json".to_string());
    let shapes = load_shapes(&shapes_path);
    let min_runs: usize = std::env::var("BENCH_MIN_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let min_secs: f64 = std::env::var("BENCH_MIN_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(2.0);
    // Network layer lists have hundreds of layers: BENCH_MIN_WARM_SECS shortens the warm-up.
    let warm_secs: f64 = std::env::var("BENCH_MIN_WARM_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0);

    // lavapipe reports itself as a CPU adapter; BURN_PEER_DEVICE=default lets wgpu pick.
    let kind = match std::env::var("BURN_PEER_DEVICE").as_deref() {
        Ok("default") => DeviceKind::DefaultDevice,
        _ => DeviceKind::Cpu,
    };
    let kind_str = format!("{:?}", kind);
    #[cfg(not(feature = "spirv"))]
    let (device, peer, shader_path) = (
        Device::wgpu(kind),
        "burn-wgpu",
        "WGSL via wgpu -> naga -> SPIR-V -> lavapipe",
    );
    #[cfg(feature = "spirv")]
    let (device, peer, shader_path) = (
        Device::vulkan(kind),
        "burn-vulkan-spirv",
        "cubecl SPIR-V compiler -> wgpu (vulkan passthrough) -> lavapipe",
    );
    let t_init = Instant::now();
    // Touch the device so adapter/device creation is not charged to the first shape.
    let probe = Tensor::<1>::from_data(TensorData::new(vec![1.0f32; 4], [4]), &device);
    let _ = probe.into_data();
    eprintln!("device init: {:.1} ms  (layout: {})", t_init.elapsed().as_secs_f64() * 1e3, if nchw { "nchw" } else { "nhwc" });

    println!(
        "{:<14} {:>10} {:>10} {:>9} {:>9} {:>6} {:>10} {:>10}",
        "shape", "median_ms", "min_ms", "GFLOP/s", "(min)", "runs", "warmup_ms", "max_rel"
    );
    let mut rows = Vec::new();
    for s in &shapes {
        if let Some(o) = &only {
            if !o.iter().any(|n| *n == s.name) {
                continue;
            }
        }
        let cg = s.cin / s.groups;
        let (ho, pt, pb) = keras_pad(s.h, s.kh, s.sh, s.dh, s.same);
        let (wo, pl, pr) = keras_pad(s.w, s.kw, s.sw, s.dw, s.same);
        // Host data in Keras layouts: x[n,h,w,c], w[kh,kw,cg,cout], b[cout].
        let x_nhwc = fill(s.n * s.h * s.w * s.cin, 1);
        let w_keras = fill(s.kh * s.kw * cg * s.cout, 2);
        let bias = fill(s.cout, 3);

        let (x, w) = if nchw {
            let mut xc = vec![0f32; x_nhwc.len()];
            for n in 0..s.n {
                for y in 0..s.h {
                    for xx in 0..s.w {
                        for c in 0..s.cin {
                            xc[((n * s.cin + c) * s.h + y) * s.w + xx] = x_nhwc[((n * s.h + y) * s.w + xx) * s.cin + c];
                        }
                    }
                }
            }
            let mut wc = vec![0f32; w_keras.len()];
            for o in 0..s.cout {
                for i in 0..cg {
                    for ky in 0..s.kh {
                        for kx in 0..s.kw {
                            wc[((o * cg + i) * s.kh + ky) * s.kw + kx] = w_keras[((ky * s.kw + kx) * cg + i) * s.cout + o];
                        }
                    }
                }
            }
            (
                Tensor::<4>::from_data(TensorData::new(xc, [s.n, s.cin, s.h, s.w]), &device),
                Tensor::<4>::from_data(TensorData::new(wc, [s.cout, cg, s.kh, s.kw]), &device),
            )
        } else {
            // physical [cout, kh, kw, cg]
            let mut wo_ = vec![0f32; w_keras.len()];
            for o in 0..s.cout {
                for ky in 0..s.kh {
                    for kx in 0..s.kw {
                        for i in 0..cg {
                            wo_[((o * s.kh + ky) * s.kw + kx) * cg + i] = w_keras[((ky * s.kw + kx) * cg + i) * s.cout + o];
                        }
                    }
                }
            }
            (
                Tensor::<4>::from_data(TensorData::new(x_nhwc.clone(), [s.n, s.h, s.w, s.cin]), &device).permute([0, 3, 1, 2]),
                Tensor::<4>::from_data(TensorData::new(wo_, [s.cout, s.kh, s.kw, cg]), &device).permute([0, 3, 1, 2]),
            )
        };
        let b = Tensor::<1>::from_data(TensorData::new(bias.clone(), [s.cout]), &device);
        let opts = ConvOptions::new_with_padding([s.sh, s.sw], [(pt, pb), (pl, pr)], [s.dh, s.dw], s.groups);
        device.sync().unwrap();

        let run = || {
            let y = conv2d(x.clone(), w.clone(), Some(b.clone()), opts.clone());
            device.sync().unwrap();
            y
        };

        // Warm-up: >=3 calls and >=1 s (first calls include shader compile + autotune).
        let tw = Instant::now();
        let mut warm = 0;
        let mut y = run();
        warm += 1;
        let first_ms = tw.elapsed().as_secs_f64() * 1e3;
        while warm < 3 || tw.elapsed() < Duration::from_secs_f64(warm_secs) {
            y = run();
            warm += 1;
        }

        // Correctness on 256 sampled outputs (Keras semantics, fp64 reference).
        let y_nhwc = y.permute([0, 2, 3, 1]).into_data();
        let yv: Vec<f32> = y_nhwc.try_to_vec::<f32>().expect("f32 output");
        assert_eq!(yv.len(), s.n * ho * wo * s.cout, "output size");
        let mut max_rel = 0f64;
        let mut max_ref = 0f64;
        let mut max_abs = 0f64;
        let pts = fill(256 * 4, 9);
        for p in 0..256 {
            let n = ((pts[4 * p].abs() * s.n as f32) as usize).min(s.n - 1);
            let oy = ((pts[4 * p + 1].abs() * ho as f32) as usize).min(ho - 1);
            let ox = ((pts[4 * p + 2].abs() * wo as f32) as usize).min(wo - 1);
            let oc = ((pts[4 * p + 3].abs() * s.cout as f32) as usize).min(s.cout - 1);
            let g = oc / (s.cout / s.groups);
            let mut acc = bias[oc] as f64;
            for ky in 0..s.kh {
                let iy = (oy * s.sh + ky * s.dh) as isize - pt as isize;
                if iy < 0 || iy >= s.h as isize {
                    continue;
                }
                for kx in 0..s.kw {
                    let ix = (ox * s.sw + kx * s.dw) as isize - pl as isize;
                    if ix < 0 || ix >= s.w as isize {
                        continue;
                    }
                    for i in 0..cg {
                        let xv = x_nhwc[((n * s.h + iy as usize) * s.w + ix as usize) * s.cin + g * cg + i] as f64;
                        let wv = w_keras[((ky * s.kw + kx) * cg + i) * s.cout + oc] as f64;
                        acc += xv * wv;
                    }
                }
            }
            let got = yv[((n * ho + oy) * wo + ox) * s.cout + oc] as f64;
            max_abs = max_abs.max((got - acc).abs());
            max_ref = max_ref.max(acc.abs());
        }
        if max_ref > 0.0 {
            max_rel = max_abs / max_ref;
        }

        let mut times = Vec::new();
        let tb = Instant::now();
        while times.len() < min_runs || (tb.elapsed().as_secs_f64() < min_secs && times.len() < 200) {
            let t0 = Instant::now();
            let y = run();
            times.push(t0.elapsed().as_secs_f64() * 1e3);
            drop(y);
        }
        let runs = times.len();
        let min = times.iter().cloned().fold(f64::INFINITY, f64::min);
        let med = median(&mut times);
        let f = flops(s);
        println!(
            "{:<14} {:>10.3} {:>10.3} {:>9.2} {:>9.2} {:>6} {:>10.1} {:>10.2e}",
            s.name, med, min, f / med / 1e6, f / min / 1e6, runs, first_ms, max_rel
        );
        rows.push(serde_json::json!({
            "shape": s.name, "median_ms": med, "min_ms": min,
            "gflops_median": f / med / 1e6, "gflops_min": f / min / 1e6,
            "flops": f, "runs": runs, "first_call_ms": first_ms, "warmup_calls": warm,
            "max_rel_err_vs_cpu_ref": max_rel, "out_shape": [s.n, ho, wo, s.cout],
        }));
    }
    let doc = serde_json::json!({
        "peer": peer,
        "burn_version": "0.22.0 (burn-wgpu/burn-cubecl 0.22.1, cubecl 0.11.3, wgpu 30.0.1)",
        "shader_path": shader_path,
        "device_kind": kind_str,
        "layout": if nchw { "nchw-contiguous" } else { "nhwc-physical (permuted views)" },
        "timing": "conv2d + device.sync() per iteration; warm-up >=3 calls & >=1s; median/min over >=10",
        "results": rows,
    });
    if let Some(dir) = std::path::Path::new(&out_path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    eprintln!("wrote {out_path}");
}
