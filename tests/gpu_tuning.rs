//! Tuning on the device: `Measure` times the candidates of a class once, stores the fastest
//! correct one, and a second context in `Cached` mode reads it back, measures nothing and plans
//! the same algorithm; corrupt cache files are ignored; the Keras goldens hold with tuning on.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::TestRng;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, GpuContext, GpuOptions, Tensor, Tuning};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgpu-conv2d-tuning-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn context(tuning: Tuning, dir: &std::path::Path) -> std::sync::Arc<GpuContext> {
    GpuContext::new(&GpuOptions {
        tuning,
        cache_dir: Some(dir.to_path_buf()),
        tuning_budget: Duration::from_secs(30),
        ..GpuOptions::default()
    })
    .unwrap()
}

fn layer(cin: usize, filters: usize, rng: &mut TestRng) -> Conv2d {
    let config = Conv2dConfig::builder(filters as i64, 3)
        .padding("same")
        .activation("relu")
        .build()
        .unwrap();
    let n = 9 * cin * filters;
    let k = Tensor::new([3, 3, cin, filters], (0..n).map(|_| rng.sym() * 0.3).collect()).unwrap();
    let b = Tensor::new([filters], (0..filters).map(|_| rng.sym()).collect()).unwrap();
    Conv2d::with_weights(config, k, Some(b)).unwrap()
}

#[test]
fn measure_tunes_each_class_once_and_cached_reuses_it_without_measuring() {
    if common::gpu::gpu().is_none() {
        return;
    }
    if std::env::var_os("WGPU_CONV2D_TUNING").is_some() {
        eprintln!("WGPU_CONV2D_TUNING is set: it overrides the modes this test needs");
        return;
    }
    let dir = temp_dir("reuse");
    let mut rng = TestRng(0x70E);
    let l = layer(16, 16, &mut rng);
    let x = Tensor::new([1, 20, 20, 16], (0..6400).map(|_| rng.sym()).collect()).unwrap();
    let want = l.forward(&x).unwrap();

    let first = context(Tuning::Measure, &dir);
    let device = Device::Gpu(first.clone());
    let got = l.forward_on(&device, &x).unwrap();
    assert!(common::relative_error(&got, &want) <= 1e-5);
    let stats = first.stats();
    assert_eq!(stats.classes_tuned, 1);
    assert!(stats.tuning_micros > 0);
    let choices = first.tuning_choices();
    assert_eq!(choices.len(), 1, "{choices:?}");
    let (class, choice) = choices.iter().next().unwrap();
    assert!(class.contains("dense k3x3"), "{class}");
    assert!(choice.ms.is_finite() && choice.rules_ms.is_finite(), "{choice:?}");
    // The choice is never slower than the rules as measured (the margin keeps ties on the rules).
    assert!(choice.ms <= choice.rules_ms, "{choice:?}");
    let planned = l.plan_on(&device, x.shape()).unwrap().unwrap();
    assert_eq!(planned.algorithm.0, choice.algorithm);
    // Same class (within a factor of two on each GEMM axis): no second measurement.
    let x2 = Tensor::new([1, 18, 22, 16], (0..6336).map(|_| rng.sym()).collect()).unwrap();
    let got2 = l.forward_on(&device, &x2).unwrap();
    assert!(common::relative_error(&got2, &l.forward(&x2).unwrap()) <= 1e-5);
    assert_eq!(first.stats().classes_tuned, 1);

    let second = context(Tuning::Cached, &dir);
    assert_eq!(second.tuning_choices(), choices, "the stored choices");
    let device2 = Device::Gpu(second.clone());
    let got = l.forward_on(&device2, &x).unwrap();
    assert!(common::relative_error(&got, &want) <= 1e-5);
    assert_eq!(second.stats().classes_tuned, 0, "cached mode never measures");
    assert_eq!(second.stats().tuning_micros, 0);
    assert_eq!(
        l.plan_on(&device2, x.shape()).unwrap().unwrap().algorithm.0,
        choice.algorithm
    );

    // Off ignores the file.
    let off = context(Tuning::Off, &dir);
    assert!(off.tuning_choices().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_and_foreign_cache_files_are_ignored() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let dir = temp_dir("corrupt");
    // Learn the file names from a context that writes them, then spoil them.
    let ctx = context(Tuning::Measure, &dir);
    let mut rng = TestRng(0xBAD);
    let l = layer(8, 8, &mut rng);
    let x = Tensor::new([1, 9, 9, 8], (0..648).map(|_| rng.sym()).collect()).unwrap();
    l.forward_on(&Device::Gpu(ctx.clone()), &x).unwrap();
    let pipelines = ctx.has_persistent_pipeline_cache();
    drop(ctx);
    let files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("tuning-")),
        "no tuning file in {files:?}"
    );
    // Where the adapter has PIPELINE_CACHE (lavapipe does), the pipeline blob was saved too.
    assert_eq!(
        files.iter().any(|f| f.to_string_lossy().contains("pipelines-")),
        pipelines,
        "{files:?}"
    );
    for (i, f) in files.iter().enumerate() {
        let spoiled: &[u8] = if i % 2 == 0 { b"\x00garbage" } else { b"{\"format\": 1" };
        std::fs::write(f, spoiled).unwrap();
    }
    for tuning in [Tuning::Cached, Tuning::Measure] {
        let ctx = context(tuning, &dir);
        assert!(ctx.tuning_choices().is_empty());
        let got = l.forward_on(&Device::Gpu(ctx.clone()), &x).unwrap();
        assert!(common::relative_error(&got, &l.forward(&x).unwrap()) <= 1e-5);
        assert_eq!(ctx.uncaptured_errors(), 0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keras_goldens_hold_with_tuning_on() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let dir = temp_dir("goldens");
    let ctx = GpuContext::new(&GpuOptions {
        tuning: Tuning::Measure,
        cache_dir: Some(dir.clone()),
        // Enough for the small golden shapes' candidates to compile and run a few times.
        tuning_budget: Duration::from_secs(5),
        ..GpuOptions::default()
    })
    .unwrap();
    ctx.set_nan_fill_outputs(true);
    let device = Device::Gpu(ctx.clone());
    let goldens = common::goldens();
    for g in &goldens {
        let got = g.layer.forward_on(&device, &g.input).unwrap();
        let err = common::relative_error(&got, &g.expected);
        assert!(err <= 1e-5, "{}: relative error {err:e} with tuning on", g.name);
    }
    let stats = ctx.stats();
    assert!(stats.classes_tuned > 0);
    println!(
        "{} goldens, {} classes tuned in {:.1} s; choices {:?}",
        goldens.len(),
        stats.classes_tuned,
        stats.tuning_micros as f64 / 1e6,
        ctx.tuning_choices()
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.algorithm))
            .collect::<Vec<_>>()
    );
    assert_eq!(ctx.uncaptured_errors(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Threads meeting the same new class at once measure it once, and all get the oracle's numbers.
#[test]
fn concurrent_first_calls_measure_a_class_once() {
    if common::gpu::gpu().is_none() {
        return;
    }
    if std::env::var_os("WGPU_CONV2D_TUNING").is_some() {
        return;
    }
    let dir = temp_dir("threads");
    let ctx = context(Tuning::Measure, &dir);
    let mut rng = TestRng(0x7EAD);
    let l = std::sync::Arc::new(layer(8, 12, &mut rng));
    let x = std::sync::Arc::new(Tensor::new([1, 12, 12, 8], (0..1152).map(|_| rng.sym()).collect()).unwrap());
    let want = l.forward(&x).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (ctx, l, x) = (ctx.clone(), l.clone(), x.clone());
            std::thread::spawn(move || l.forward_on(&Device::Gpu(ctx), &x).unwrap())
        })
        .collect();
    for t in threads {
        let got = t.join().unwrap();
        assert!(common::relative_error(&got, &want) <= 1e-5);
    }
    assert_eq!(ctx.stats().classes_tuned, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
