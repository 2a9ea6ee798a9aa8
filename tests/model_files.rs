//! Reading Conv2D layers out of files real Keras wrote (tests/generate_model_fixtures.py): `.keras`,
//! legacy `.h5`, `.weights.h5` with a separate config, `.npz` and `.safetensors`; each layer's
//! output on the CPU and the GPU against Keras's own, within 1e-5 of the output's largest magnitude.

mod common;

use std::path::PathBuf;

use serde_json::Value;
use wgpu_conv2d::io::{self, npy, KernelLayout, ModelFile, ModelFormat};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device};

fn model(name: &str) -> PathBuf {
    common::fixture(&format!("models/{name}"))
}

/// (layer name, Keras's `layer.path`, kernel shape) as the generator recorded them.
fn recorded(model_name: &str) -> Vec<(String, String, Vec<usize>)> {
    let text = std::fs::read_to_string(model(&format!("{model_name}.layers.json"))).unwrap();
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    list.iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["path"].as_str().unwrap().to_string(),
                l["kernel"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect(),
            )
        })
        .collect()
}

/// The layer's output on `x` matches Keras's on the CPU and, where an adapter exists, the GPU.
fn check_outputs(layer: &Conv2d, model_name: &str, name: &str, what: &str) {
    let x = npy::read(model(&format!("{model_name}.{name}.x.npy"))).unwrap();
    let want = npy::read(model(&format!("{model_name}.{name}.y.npy"))).unwrap();
    let cpu = layer.forward(&x).unwrap();
    let err = common::relative_error(&cpu, &want);
    assert!(
        err <= 1e-5,
        "{what} {model_name}/{name} on the CPU: relative error {err:e}"
    );
    if let Some(ctx) = common::gpu::gpu() {
        let gpu = layer.forward_on(&Device::Gpu(ctx), &x).unwrap();
        let err = common::relative_error(&gpu, &want);
        assert!(
            err <= 1e-5,
            "{what} {model_name}/{name} on the GPU: relative error {err:e}"
        );
    }
}

#[test]
fn keras_and_legacy_h5_files_give_every_conv2d_layer_by_name() {
    for model_name in ["functional", "sequential"] {
        let expected = recorded(model_name);
        for (ext, format) in [("keras", ModelFormat::Keras), ("h5", ModelFormat::LegacyH5)] {
            let file = ModelFile::open(model(&format!("{model_name}.{ext}"))).unwrap();
            assert_eq!(file.format(), format);
            let listed = file.conv2d_layers().unwrap();
            let got: Vec<(String, String, Vec<usize>)> = listed
                .iter()
                .map(|l| (l.name.clone(), l.path.join("/"), l.kernel_shape.clone()))
                .collect();
            // Keras's `layer.path` also starts with a Sequential model's own name.
            let keras_path = |(n, p, k): &(String, String, Vec<usize>)| {
                (
                    n.clone(),
                    p.strip_prefix("sequential/").unwrap_or(p).to_string(),
                    k.clone(),
                )
            };
            assert_eq!(
                got,
                expected.iter().map(keras_path).collect::<Vec<_>>(),
                "{model_name}.{ext}"
            );
            for (name, _, _) in &expected {
                let layer = Conv2d::from_keras_file(model(&format!("{model_name}.{ext}")), name).unwrap();
                assert_eq!(&layer.config().name, name);
                check_outputs(&layer, model_name, name, ext);
            }
        }
    }
}

/// `model.weights.h5` names layers by tracking path; the user's names differ from the class-based
/// ones in these models, so a mapping that used the names would fail here.
#[test]
fn tracking_paths_map_user_names_to_weights_h5_groups() {
    let file = ModelFile::open(model("functional.keras")).unwrap();
    let groups: Vec<(String, String)> = file
        .conv2d_layers()
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.weights_group))
        .collect();
    let want = [
        ("stem", "layers/conv2d"),
        ("grouped_dilated", "layers/conv2d_1"),
        ("branch_1x1", "layers/conv2d_2"),
        ("depthwise_like", "layers/conv2d_3"),
        ("strided_softmax", "layers/conv2d_4"),
        ("inner_conv", "layers/sequential/layers/conv2d"),
    ];
    assert_eq!(groups, want.map(|(a, b)| (a.to_string(), b.to_string())));
    for model_name in ["functional", "sequential"] {
        let keras = ModelFile::open(model(&format!("{model_name}.keras"))).unwrap();
        for summary in keras.conv2d_layers().unwrap() {
            let text = std::fs::read_to_string(model(&format!("{model_name}.{}.config.json", summary.name))).unwrap();
            let config = Conv2dConfig::from_keras_json(&text).unwrap();
            let weights = model(&format!("{model_name}.weights.h5"));
            let layer = io::layer_from_weights_h5(config, &weights, &summary.weights_group).unwrap();
            check_outputs(&layer, model_name, &summary.name, "weights.h5");
        }
    }
}

#[test]
fn npz_and_safetensors_kernels_in_either_layout() {
    let text = std::fs::read_to_string(model("functional.stem.config.json")).unwrap();
    let config = Conv2dConfig::from_keras_json(&text).unwrap();
    let npz = io::layer_from_tensors(config.clone(), model("stem.npz"), None, KernelLayout::Hwio).unwrap();
    check_outputs(&npz, "functional", "stem", "npz");
    let st = model("stem.safetensors");
    assert_eq!(KernelLayout::default_for(&st), KernelLayout::Oihw);
    let torch = io::layer_from_tensors(config.clone(), &st, Some("stem"), KernelLayout::Oihw).unwrap();
    check_outputs(&torch, "functional", "stem", "safetensors");
    // The wrong layout is a shape error naming the file, in Keras's words.
    let err = io::layer_from_tensors(config, &st, Some("stem"), KernelLayout::Hwio).unwrap_err();
    assert!(
        err.to_string().contains("stem.safetensors") && err.to_string().contains("weight shape"),
        "{err}"
    );
}
