//! The `convolve` example's tensor mode, run as a user runs it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use wgpu_conv2d::io::npy;

/// `target/<profile>/examples/convolve`, which `cargo test` builds beside the test binaries.
fn convolve() -> Command {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin: PathBuf = dir
        .join("examples")
        .join(format!("convolve{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} not built", bin.display());
    Command::new(bin)
}

/// Tensor mode on a golden case's layer (config, kernel, bias) and input, writing `out`.
fn golden_layer(dir: &std::path::Path, out: &std::path::Path) -> Command {
    let mut cmd = convolve();
    cmd.arg("--config")
        .arg(dir.join("config.json"))
        .arg("--kernel")
        .arg(dir.join("kernel.npy"))
        .arg("--bias")
        .arg(dir.join("bias.npy"))
        .arg("--input")
        .arg(dir.join("input.npy"))
        .arg("--output")
        .arg(out);
    cmd
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgpu-conv2d-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn tensor_mode_reproduces_keras_goldens() {
    for case in [
        "stem_7x7_s2_last",
        "groups2_first",
        "act_softmax_first",
        "lora_rank2",
        "no_bias_last",
    ] {
        let dir = common::fixture("keras").join(case);
        let out = tmp(&format!("{case}.npy"));
        let mut cmd = convolve();
        cmd.arg("--config")
            .arg(dir.join("config.json"))
            .arg("--kernel")
            .arg(dir.join("kernel.npy"));
        if dir.join("bias.npy").exists() {
            cmd.arg("--bias").arg(dir.join("bias.npy"));
        }
        cmd.arg("--input")
            .arg(dir.join("input.npy"))
            .arg("--output")
            .arg(&out)
            .args(["--device", "cpu"]);
        let result = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        if case == "lora_rank2" {
            // The config carries lora_rank, so the layer expects the LoRA factors too: Keras's message.
            assert!(!result.status.success());
            assert!(stderr.contains("but the layer was expecting 4 weights"), "{stderr}");
            continue;
        }
        assert!(result.status.success(), "{case}: {stderr}");
        let got = npy::read(&out).unwrap();
        let want = npy::read(dir.join("output.npy")).unwrap();
        assert_eq!(got.shape(), want.shape());
        let scale = want.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (a, b) in got.data().iter().zip(want.data()) {
            assert!((a - b).abs() <= 1e-5 * scale, "{case}: {a} vs {b}");
        }
    }
}

#[test]
fn print_config_writes_keras_json() {
    let path = common::fixture("keras/groups2_first/config.json");
    let result = convolve()
        .arg("--config")
        .arg(&path)
        .arg("--print-config")
        .output()
        .unwrap();
    assert!(result.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    let original: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(printed.to_string(), original.to_string());
}

#[test]
fn bad_input_ends_with_keras_message_and_nonzero_exit() {
    let bad = tmp("bad.json");
    std::fs::write(&bad, r#"{"filters": 4, "kernel_size": 3, "padding": "causal"}"#).unwrap();
    let dir = common::fixture("keras/pointwise_last");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--config".into(), bad.display().to_string(), "--print-config".into()],
            "Received: causal",
        ),
        (
            vec!["--config".into(), "/no/such/file.json".into()],
            "cannot read /no/such/file.json",
        ),
        (
            vec![
                "--config".into(),
                dir.join("config.json").display().to_string(),
                "--kernel".into(),
                common::fixture("keras/depthwise_last/kernel.npy").display().to_string(),
                "--bias".into(),
                dir.join("bias.npy").display().to_string(),
                "--input".into(),
                dir.join("input.npy").display().to_string(),
                "--output".into(),
                tmp("x.npy").display().to_string(),
            ],
            "is not compatible with provided weight shape",
        ),
        (
            vec![
                "--config".into(),
                dir.join("config.json").display().to_string(),
                "--kernel".into(),
                dir.join("kernel.npy").display().to_string(),
                "--bias".into(),
                dir.join("bias.npy").display().to_string(),
                "--input".into(),
                common::fixture("keras/depthwise_last/input.npy").display().to_string(),
                "--output".into(),
                tmp("y.npy").display().to_string(),
            ],
            "expected axis -1 of input shape to have value 6",
        ),
        (
            vec![
                "--config".into(),
                dir.join("config.json").display().to_string(),
                "--bogus".into(),
            ],
            "unexpected argument '--bogus'",
        ),
    ];
    for (args, expected) in cases {
        let result = convolve().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn gpu_output_matches_cpu_output() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let dir = common::fixture("keras/groups4_stride2_first");
    let mut outputs = Vec::new();
    for device in ["cpu", "gpu", "auto"] {
        let out = tmp(&format!("dev-{device}.npy"));
        let result = golden_layer(&dir, &out).args(["--device", device]).output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(result.status.success(), "{device}: {stderr}");
        if device != "cpu" {
            assert!(stderr.contains("on gpu"), "{device}: {stderr}");
        }
        outputs.push(npy::read(&out).unwrap());
    }
    let scale = outputs[0].data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for other in &outputs[1..] {
        for (a, b) in outputs[0].data().iter().zip(other.data()) {
            assert!((a - b).abs() <= 1e-5 * scale, "{a} vs {b}");
        }
    }
}

/// A float16 layer (kernel and bias as `<f2` .npy, as Keras stores them) writes float32 by default
/// and `<f2` with `--output-dtype keep`; both hold Keras's float16 numbers.
#[test]
fn half_precision_layers_write_float32_or_keep_float16() {
    let dir = common::fixture("keras_half").join("float16_basic_last");
    let want = npy::read(dir.join("output.npy")).unwrap();
    for (dtype, descr) in [("float32", "'<f4'"), ("keep", "'<f2'")] {
        let out = tmp(&format!("half_{dtype}.npy"));
        let result = golden_layer(&dir, &out)
            .args(["--output-dtype", dtype, "--device", "cpu"])
            .output()
            .unwrap();
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        let bytes = std::fs::read(&out).unwrap();
        assert!(String::from_utf8_lossy(&bytes[..80]).contains(descr), "{dtype}");
        let got = npy::read(&out).unwrap();
        let scale = want.data().iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (a, b) in got.data().iter().zip(want.data()) {
            assert!((a - b).abs() <= 2.0 * 2f32.powi(-10) * scale, "{dtype}: {a} vs {b}");
        }
    }
}
