//! Every forward case written by real Keras (tests/generate_goldens.py) on the CPU reference path.

mod common;

#[test]
fn cpu_path_matches_every_keras_golden_case() {
    let goldens = common::goldens();
    assert!(goldens.len() >= 40, "only {} golden cases", goldens.len());
    let mut worst = (0.0f64, String::new());
    for g in &goldens {
        let err = common::relative_error(&g.layer.forward(&g.input).unwrap(), &g.expected);
        assert!(err <= 1e-5, "{}: relative error {err:e}", g.name);
        if err > worst.0 {
            worst = (err, g.name.clone());
        }
    }
    println!(
        "{} golden cases; worst relative error {:e} ({})",
        goldens.len(),
        worst.0,
        worst.1
    );
}

#[test]
fn every_activation_string_has_a_golden_case() {
    let names: Vec<String> = common::goldens().into_iter().map(|g| g.name).collect();
    for (act, _) in wgpu_conv2d::activation::ACTIVATION_NAMES {
        assert!(names.contains(&format!("act_{act}_last")), "no golden case for {act}");
    }
}

#[test]
fn golden_configs_round_trip_unchanged() {
    for g in common::goldens() {
        let keras: serde_json::Value = serde_json::from_str(&g.config_text).unwrap();
        assert_eq!(g.layer.get_config().to_string(), keras.to_string(), "{}", g.name);
    }
}
