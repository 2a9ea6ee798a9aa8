//! Every forward case written by real Keras (tests/generate_goldens.py) on the CPU reference path.

mod common;

use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, Tensor};

/// Loads one golden case: the layer with its weights, the input and Keras's output.
fn load_case(dir: &std::path::Path) -> (Conv2d, Tensor, Tensor, String) {
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let mut layer = Conv2d::from_keras_json(&config).unwrap();
    let mut weights = vec![npy::read(dir.join("kernel.npy")).unwrap()];
    for extra in ["bias.npy", "lora_a.npy", "lora_b.npy"] {
        if dir.join(extra).exists() {
            weights.push(npy::read(dir.join(extra)).unwrap());
        }
    }
    layer.set_weights(&weights).unwrap();
    let input = npy::read(dir.join("input.npy")).unwrap();
    let expected = npy::read(dir.join("output.npy")).unwrap();
    (layer, input, expected, config)
}

/// Every golden case directory.
pub fn case_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(common::fixture("keras"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn cpu_path_matches_every_keras_golden_case() {
    let dirs = case_dirs();
    assert!(dirs.len() >= 40, "only {} golden cases", dirs.len());
    let mut worst = (0.0f64, String::new());
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (layer, input, expected, _) = load_case(dir);
        let got = layer.forward(&input).unwrap();
        assert_eq!(got.shape(), expected.shape(), "{name}");
        let scale = expected
            .data()
            .iter()
            .fold(0.0f64, |m, v| m.max((*v as f64).abs()))
            .max(1e-30);
        let err = got
            .data()
            .iter()
            .zip(expected.data())
            .map(|(a, b)| (*a as f64 - *b as f64).abs())
            .fold(0.0, f64::max)
            / scale;
        assert!(err <= 1e-5, "{name}: relative error {err:e}");
        if err > worst.0 {
            worst = (err, name);
        }
    }
    println!(
        "{} golden cases; worst relative error {:e} ({})",
        dirs.len(),
        worst.0,
        worst.1
    );
}

#[test]
fn every_activation_string_has_a_golden_case() {
    let names: Vec<String> = case_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for (act, _) in wgpu_conv2d::activation::ACTIVATION_NAMES {
        assert!(names.contains(&format!("act_{act}_last")), "no golden case for {act}");
    }
}

#[test]
fn golden_configs_round_trip_unchanged() {
    for dir in case_dirs() {
        let (layer, _, _, text) = load_case(&dir);
        let keras: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ours = layer.get_config();
        assert_eq!(ours.to_string(), keras.to_string(), "{}", dir.display());
    }
}
