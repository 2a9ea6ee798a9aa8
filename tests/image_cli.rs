//! The `convolve` example's image mode, run as a person runs it, checked against the CPU reference.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use image::{Rgb, RgbImage};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Tensor};

fn convolve(args: &[&str]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("convolve");
    Command::new(bin)
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgpu-conv2d-img-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A 37x23 RGB image with edges, gradients and noise.
fn test_image(path: &Path) -> Tensor {
    let mut rng = common::TestRng(9);
    let img = RgbImage::from_fn(37, 23, |x, y| {
        let noise = (rng.next() % 40) as u8;
        Rgb([
            (x * 6) as u8 + noise,
            if (x / 6 + y / 5) % 2 == 0 { 220 } else { 30 },
            (y * 10) as u8,
        ])
    });
    img.save(path).unwrap();
    let data = img.into_raw().into_iter().map(|v| v as f32 / 255.0).collect();
    Tensor::new([1, 23, 37, 3], data).unwrap()
}

/// The sharpen filter written out independently of the example: depthwise 3x3, same padding.
fn sharpen_reference(x: &Tensor) -> Vec<u8> {
    let taps = [0., -1., 0., -1., 5., -1., 0., -1., 0.];
    let kernel: Vec<f32> = (0..9).flat_map(|p| [taps[p]; 3]).collect();
    let config = Conv2dConfig::builder(3, 3)
        .padding("same")
        .groups(3)
        .use_bias(false)
        .build()
        .unwrap();
    let layer = Conv2d::with_weights(config, Tensor::new([3, 3, 1, 3], kernel).unwrap(), None).unwrap();
    layer
        .forward(x)
        .unwrap()
        .data()
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

fn assert_ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn sharpen_preset_pixels_match_the_cpu_reference_on_every_device() {
    let input = tmp("in.png");
    let x = test_image(&input);
    let want = sharpen_reference(&x);
    let devices: &[&str] = if common::gpu::gpu().is_some() {
        &["cpu", "gpu"]
    } else {
        &["cpu"]
    };
    for device in devices {
        let output = tmp(&format!("sharp-{device}.png"));
        let stderr = assert_ok(&convolve(&[
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--preset",
            "sharpen",
            "--device",
            device,
        ]));
        assert!(
            stderr.contains("kernel:") && stderr.contains("ms per image"),
            "{stderr}"
        );
        let got = image::open(&output).unwrap().to_rgb8().into_raw();
        assert_eq!(got.len(), want.len());
        // f32 GPU sums may round across a .5 boundary: allow one level, and count how often.
        let off = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert!(
            got.iter().zip(&want).all(|(a, b)| a.abs_diff(*b) <= 1),
            "{device}: pixels differ by more than 1"
        );
        assert!(
            off * 100 <= want.len(),
            "{device}: {off} of {} values off by one",
            want.len()
        );
    }
}

#[test]
fn every_preset_runs_and_sobel_is_a_gradient_magnitude() {
    let input = tmp("presets.png");
    let x = test_image(&input);
    for preset in ["gaussian", "box", "sharpen", "emboss", "sobel", "laplacian", "identity"] {
        let out = tmp(&format!("{preset}.npy"));
        assert_ok(&convolve(&[
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--preset",
            preset,
            "--device",
            "cpu",
        ]));
        let y = npy::read(&out).unwrap();
        assert_eq!(y.shape(), &[1, 23, 37, 3], "{preset}");
        if preset == "identity" {
            assert_eq!(y.data(), x.data());
        }
        if preset == "sobel" {
            // Interior pixel (10, 10), channel 0: |∇| from the Sobel pair computed by hand.
            let at = |r: usize, c: usize| x.data()[(r * 37 + c) * 3] as f64;
            let gx = (at(9, 11) + 2.0 * at(10, 11) + at(11, 11)) - (at(9, 9) + 2.0 * at(10, 9) + at(11, 9));
            let gy = (at(11, 9) + 2.0 * at(11, 10) + at(11, 11)) - (at(9, 9) + 2.0 * at(9, 10) + at(9, 11));
            let got = y.data()[(10 * 37 + 10) * 3] as f64;
            assert!((got - (gx * gx + gy * gy).sqrt()).abs() < 1e-5, "{got}");
        }
    }
}

#[test]
fn keras_layer_on_an_image_and_the_channel_grid() {
    let input = tmp("keras.png");
    let x = test_image(&input);
    // A Keras golden layer with 3 input channels and 5 filters (kernel 2x4, valid): a grid of 5 tiles.
    let dir = common::fixture("keras/valid_even_kernel_last");
    let (config, kernel, bias) = (dir.join("config.json"), dir.join("kernel.npy"), dir.join("bias.npy"));
    let grid = tmp("grid.png");
    let npy_out = tmp("keras.npy");
    for out in [&grid, &npy_out] {
        assert_ok(&convolve(&[
            input.to_str().unwrap(),
            out.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--kernel",
            kernel.to_str().unwrap(),
            "--bias",
            bias.to_str().unwrap(),
            "--device",
            "cpu",
        ]));
    }
    let layer = Conv2d::from_keras_json(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let mut layer = layer;
    layer
        .set_weights(&[npy::read(&kernel).unwrap(), npy::read(&bias).unwrap()])
        .unwrap();
    assert_eq!(npy::read(&npy_out).unwrap(), layer.forward(&x).unwrap());
    let tiles = image::open(&grid).unwrap();
    // 5 channels of 22x34 in a 3-column grid (2 rows) with 2-pixel gaps, grayscale.
    assert_eq!((tiles.width(), tiles.height()), (3 * 34 + 2 * 2, 2 * 22 + 2));
    assert_eq!(tiles.color().channel_count(), 1);
    // A 4-filter layer is written as an RGBA image instead.
    let stem = common::fixture("keras/stem_7x7_s2_last");
    let rgba = tmp("rgba.png");
    assert_ok(&convolve(&[
        input.to_str().unwrap(),
        rgba.to_str().unwrap(),
        "--config",
        stem.join("config.json").to_str().unwrap(),
        "--kernel",
        stem.join("kernel.npy").to_str().unwrap(),
        "--bias",
        stem.join("bias.npy").to_str().unwrap(),
        "--normalize",
    ]));
    let rgba = image::open(&rgba).unwrap();
    assert_eq!((rgba.width(), rgba.height(), rgba.color().channel_count()), (19, 12, 4));
}

#[test]
fn many_inputs_with_out_dir() {
    let folder = tmp("batch");
    std::fs::create_dir_all(&folder).unwrap();
    for name in ["a.png", "b.png", "c.png"] {
        test_image(&folder.join(name));
    }
    let out_dir = tmp("batch-out");
    let stderr = assert_ok(&convolve(&[
        folder.to_str().unwrap(),
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--preset",
        "box",
        "--device",
        "cpu",
    ]));
    assert!(stderr.contains("3/3") && stderr.contains("3 image(s)"), "{stderr}");
    for name in ["a.png", "b.png", "c.png"] {
        assert!(out_dir.join(name).exists(), "{name}");
    }
}

#[test]
fn bad_input_gets_a_clear_message_and_nonzero_exit() {
    let input = tmp("bad.png");
    test_image(&input);
    let out = tmp("bad-out.png");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let not_image = tmp("not-an-image.png");
    std::fs::write(&not_image, b"hello").unwrap();
    let gray_kernel = tmp("gray-kernel.npy");
    npy::write(&gray_kernel, &Tensor::zeros([3, 3, 1, 4]).unwrap()).unwrap();
    let one_channel = tmp("one-channel.json");
    std::fs::write(&one_channel, r#"{"filters": 4, "kernel_size": 3, "use_bias": false}"#).unwrap();
    let golden = common::fixture("keras/stem_7x7_s2_last");
    let (golden_config, golden_bias) = (golden.join("config.json"), golden.join("bias.npy"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["/no/such.png", o, "--preset", "box"], "cannot open /no/such.png"),
        (
            vec![not_image.to_str().unwrap(), o, "--preset", "box"],
            "is not a readable PNG or JPEG",
        ),
        (vec![i, o, "--preset", "vignette"], "unknown preset \"vignette\""),
        (
            vec![
                i,
                o,
                "--config",
                one_channel.to_str().unwrap(),
                "--kernel",
                gray_kernel.to_str().unwrap(),
            ],
            "has 3 channel(s) but the layer's kernel expects 1",
        ),
        (
            vec![
                i,
                o,
                "--config",
                golden_config.to_str().unwrap(),
                "--kernel",
                gray_kernel.to_str().unwrap(),
                "--bias",
                golden_bias.to_str().unwrap(),
            ],
            "is not compatible with provided weight shape",
        ),
        (
            vec![i, "out.gif", "--preset", "box"],
            "must end in .png, .jpg, .jpeg or .npy",
        ),
        (vec![i, o], "needs --preset NAME or --config"),
    ];
    for (args, expected) in cases {
        let result = convolve(&args);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!result.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
