//! Regularizer penalties and constraint projections against values computed by real Keras.

mod common;

use serde_json::Value;
use wgpu_conv2d::{Constraint, Conv2d, Conv2dConfig, Regularizer, Tensor};

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::fixture("keras_penalties.json")).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    fn walk(v: &Value, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            other => out.push(other.as_f64().unwrap() as f32),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

fn close(got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-12),
        "got {got}, want {want}"
    );
}

fn layer(config: &Value, f: &Value, lora: bool) -> Conv2d {
    let mut layer = Conv2d::new(Conv2dConfig::from_keras_value(config).unwrap()).unwrap();
    let mut weights = vec![
        Tensor::new([3, 3, 2, 4], floats(&f["kernel"])).unwrap(),
        Tensor::new([4], floats(&f["bias"])).unwrap(),
    ];
    if lora {
        layer.set_weights(&weights).unwrap();
        layer.enable_lora(2, None, Some(0)).unwrap();
        weights.push(Tensor::new([3, 3, 2, 2], floats(&f["lora_penalty"]["a"])).unwrap());
        weights.push(Tensor::new([2, 4], floats(&f["lora_penalty"]["b"])).unwrap());
    }
    layer.set_weights(&weights).unwrap();
    layer
}

#[test]
fn weight_penalties_match_keras() {
    let f = fixture();
    for (name, case) in f["regularizers"].as_object().unwrap() {
        let got = layer(&case["config"], &f, false).weight_penalty().unwrap();
        println!("{name}: {got}");
        close(got, case["loss"].as_f64().unwrap(), 1e-5);
    }
}

#[test]
fn lora_penalty_counts_only_trainable_factors() {
    let f = fixture();
    let config = Conv2dConfig::builder(4, 3)
        .kernel_regularizer("l2")
        .build()
        .unwrap()
        .to_keras_value();
    let got = layer(&config, &f, true).weight_penalty().unwrap();
    close(got, f["lora_penalty"]["loss"].as_f64().unwrap(), 1e-5);
}

#[test]
fn activity_penalty_is_divided_by_batch() {
    let f = fixture();
    let case = &f["activity"];
    let l = layer(&case["config"], &f, false);
    let x = Tensor::new([3, 5, 5, 2], floats(&case["input"])).unwrap();
    let y = l.forward(&x).unwrap();
    close(l.activity_penalty(&y).unwrap(), case["loss"].as_f64().unwrap(), 1e-5);
}

#[test]
fn constraints_match_keras() {
    let f = fixture();
    let kernel = floats(&f["kernel"]);
    let bias = floats(&f["bias"]);
    for (name, case) in f["constraints"].as_object().unwrap() {
        let c = Constraint::from_keras(&case["config"]).unwrap();
        assert_eq!(c.to_keras(), case["config"], "{name}");
        let got = c.apply(&kernel, &[3, 3, 2, 4]).unwrap();
        for (g, w) in got.iter().zip(floats(&case["kernel"])) {
            assert!((g - w).abs() <= 1e-6, "{name}: {g} vs {w}");
        }
        if !case["bias"].is_null() {
            let got = c.apply(&bias, &[4]).unwrap();
            for (g, w) in got.iter().zip(floats(&case["bias"])) {
                assert!((g - w).abs() <= 1e-6, "{name} bias: {g} vs {w}");
            }
        }
    }
}

#[test]
fn layer_applies_its_constraints() {
    let f = fixture();
    let config = Conv2dConfig::builder(4, 3)
        .kernel_constraint("non_neg")
        .bias_constraint("non_neg")
        .build()
        .unwrap();
    let mut l = layer(&config.to_keras_value(), &f, false);
    l.apply_constraints().unwrap();
    let w = l.get_weights().unwrap();
    assert!(w.iter().all(|t| t.data().iter().all(|v| *v >= 0.0)));
    assert!(w[0].data().iter().any(|v| *v > 0.0));
}

#[test]
fn orthogonal_regularizer_rejects_conv_kernels() {
    let r = Regularizer::get("orthogonal_regularizer").unwrap();
    let err = r.penalty(&[0.0; 72], &[3, 3, 2, 4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=(3, 3, 2, 4)"
    );
    // On a matrix it is finite and zero for orthogonal rows.
    let p = r.penalty(&[1.0, 0.0, 0.0, 1.0], &[2, 2]).unwrap();
    assert_eq!(p, 0.0);
}
