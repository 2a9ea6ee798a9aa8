//! `convolve` as a person runs it on real Keras model files, and its refusals to lose data: an
//! output that is an input, two inputs mapped to one output, in image and tensor mode.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{Rgb, RgbImage};
use wgpu_conv2d::io::npy;

fn example(name: &str, args: &[&str]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("examples").join(name);
    Command::new(bin)
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap()
}

fn convolve(args: &[&str]) -> Output {
    example("convolve", args)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgpu-conv2d-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn model(name: &str) -> String {
    common::fixture(&format!("models/{name}")).display().to_string()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn refused(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "ran, but should have refused: {stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Runs tensor mode with `layer_args` on a fixture layer's input and checks Keras's output.
fn check_tensor_mode(layer_args: &[&str], model_name: &str, layer: &str) {
    let out = tmp(&format!("{model_name}-{layer}-{}.npy", layer_args.len()));
    let x = model(&format!("{model_name}.{layer}.x.npy"));
    let mut args: Vec<&str> = layer_args.to_vec();
    let out_s = out.display().to_string();
    args.extend(["--input", &x, "--output", &out_s, "--device", "auto"]);
    let stderr = ok(&convolve(&args));
    assert!(stderr.contains("plan: "), "tensor mode prints the plan: {stderr}");
    let got = npy::read(&out).unwrap();
    let want = npy::read(model(&format!("{model_name}.{layer}.y.npy"))).unwrap();
    let err = common::relative_error(&got, &want);
    assert!(err <= 1e-5, "{layer_args:?}: relative error {err:e}");
}

#[test]
fn model_files_at_the_shell() {
    let listing = convolve(&["--model", &model("functional.keras"), "--list-layers"]);
    let stdout = String::from_utf8_lossy(&listing.stdout);
    ok(&listing);
    for line in [
        "stem",
        "[3, 3, 3, 8]",
        "grouped_dilated",
        "layers/conv2d_1",
        "depthwise_like",
        "strided_softmax",
        "softmax",
        "inner_conv",
        "layers/sequential/layers/conv2d",
        "same",
        "valid",
        "2x2",
    ] {
        assert!(stdout.contains(line), "--list-layers lacks {line}: {stdout}");
    }
    for file in ["functional.keras", "functional.h5"] {
        check_tensor_mode(
            &["--model", &model(file), "--layer", "grouped_dilated"],
            "functional",
            "grouped_dilated",
        );
    }
    check_tensor_mode(
        &["--model", &model("sequential.h5"), "--layer", "cf_b"],
        "sequential",
        "cf_b",
    );
    let config = model("functional.depthwise_like.config.json");
    let weights = model("functional.weights.h5");
    check_tensor_mode(
        &["--config", &config, "--weights", &weights, "--layer", "layers/conv2d_3"],
        "functional",
        "depthwise_like",
    );
    let stem = model("functional.stem.config.json");
    check_tensor_mode(
        &[
            "--config",
            &stem,
            "--weights",
            &model("stem.safetensors"),
            "--layer",
            "stem",
        ],
        "functional",
        "stem",
    );
    check_tensor_mode(
        &["--config", &stem, "--weights", &model("stem.npz")],
        "functional",
        "stem",
    );
    // A missing layer lists the ones there are; a weights file without --layer says what to give.
    refused(
        &convolve(&[
            "--model",
            &model("functional.keras"),
            "--layer",
            "nope",
            "--input",
            "x.npy",
            "--output",
            "y.npy",
        ]),
        "its Conv2D layers are: stem, grouped_dilated",
    );
    refused(
        &convolve(&[
            "--config",
            &config,
            "--weights",
            &weights,
            "--input",
            "x.npy",
            "--output",
            "y.npy",
        ]),
        "needs --layer GROUP",
    );
}

fn image(path: &Path, shade: u8) -> Vec<u8> {
    RgbImage::from_fn(9, 7, |x, y| Rgb([x as u8 * 20 + shade, y as u8 * 30, shade]))
        .save(path)
        .unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn no_output_overwrites_an_input_and_no_two_inputs_share_an_output() {
    let (a, b) = (tmp("a"), tmp("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let (ax, bx) = (a.join("x.png"), b.join("x.png"));
    let (ax_bytes, bx_bytes) = (image(&ax, 10), image(&bx, 200));
    let out = tmp("out");
    let (ax_s, bx_s, out_s) = (
        ax.display().to_string(),
        bx.display().to_string(),
        out.display().to_string(),
    );
    // a/x.png and b/x.png would both become out/x.png.
    refused(
        &convolve(&[&ax_s, &bx_s, "--out-dir", &out_s, "--preset", "box", "--device", "cpu"]),
        "would both be written to",
    );
    assert!(!out.join("x.png").exists(), "nothing was written");
    // --out-dir the input's own folder: x.png -> x.png.
    let a_s = a.display().to_string();
    refused(
        &convolve(&[&ax_s, "--out-dir", &a_s, "--preset", "box"]),
        "it is the input",
    );
    // convolve a.png a.png, also through another spelling of the same path.
    refused(&convolve(&[&ax_s, &ax_s, "--preset", "sharpen"]), "it is the input");
    let dotted = format!("{}/../a/x.png", a_s);
    refused(&convolve(&[&ax_s, &dotted, "--preset", "sharpen"]), "it is the input");
    assert_eq!(std::fs::read(&ax).unwrap(), ax_bytes, "the input is untouched");
    assert_eq!(std::fs::read(&bx).unwrap(), bx_bytes);
    // Tensor mode: --output equal to --input or to a weights file.
    let x = model("functional.stem.x.npy");
    let copy = tmp("stem-x.npy");
    std::fs::copy(&x, &copy).unwrap();
    let copy_s = copy.display().to_string();
    let kernel_args = ["--model", &model("functional.keras"), "--layer", "stem"];
    let mut args = kernel_args.to_vec();
    args.extend(["--input", &copy_s, "--output", &copy_s]);
    refused(&convolve(&args), "it is the input");
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&x).unwrap());
    let m = model("functional.keras");
    refused(
        &convolve(&["--model", &m, "--layer", "stem", "--input", &copy_s, "--output", &m]),
        "it is the input",
    );
    // One folder of same-size images runs as one batch, and leaves no temporary file behind.
    let c = a.join("y.png");
    image(&c, 90);
    let stderr = ok(&convolve(&[
        &a_s,
        "--out-dir",
        &out_s,
        "--preset",
        "box",
        "--device",
        "auto",
    ]));
    assert!(stderr.contains("2/2 image(s) in 1 batch(es)"), "{stderr}");
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let mut sorted = left.clone();
    sorted.sort();
    assert_eq!(sorted, ["x.png", "y.png"], "{left:?}");
    // --quiet prints nothing on success.
    let quiet = convolve(&[&a_s, "--out-dir", &out_s, "--preset", "box", "--quiet"]);
    assert!(
        quiet.status.success() && quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

#[test]
fn help_works_and_ends_with_a_newline() {
    for name in ["convolve", "bench"] {
        let out = example(name, &["--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name} --help: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.ends_with('\n') && text.contains("Usage"), "{name}: {text}");
    }
}
