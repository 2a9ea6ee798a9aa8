//! Keras initializers tested statistically: bounds, mean and variance for conv-kernel fans.

use wgpu_conv2d::{Error, Initializer};

fn stats(v: &[f32]) -> (f64, f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let lo = v.iter().fold(f64::INFINITY, |m, &x| m.min(x as f64));
    let hi = v.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
    (mean, var, lo, hi)
}

// Kernel (3, 3, 16, 32): fan_in = 144, fan_out = 288; 4608 samples.
const SHAPE: [usize; 4] = [3, 3, 16, 32];
const FAN_IN: f64 = 144.0;
const FAN_OUT: f64 = 288.0;

fn check_uniform(name: &str, limit: f64) {
    let v = Initializer::get(name).unwrap().sample(&SHAPE, Some(11)).unwrap();
    let (mean, var, lo, hi) = stats(&v);
    assert!(lo >= -limit && hi <= limit, "{name}: [{lo}, {hi}] outside ±{limit}");
    assert!(
        hi > 0.95 * limit && lo < -0.95 * limit,
        "{name}: does not fill ±{limit}"
    );
    assert!(mean.abs() < 0.05 * limit, "{name}: mean {mean}");
    let want = limit * limit / 3.0;
    assert!((var / want - 1.0).abs() < 0.08, "{name}: variance {var} vs {want}");
}

fn check_truncated(name: &str, target_var: f64) {
    // Keras divides the stddev by 0.8796 so that the 2σ-truncated draw has the target variance.
    let v = Initializer::get(name).unwrap().sample(&SHAPE, Some(12)).unwrap();
    let (mean, var, lo, hi) = stats(&v);
    let stddev = target_var.sqrt() / 0.879_625_661_034_239_8;
    assert!(
        lo >= -2.0 * stddev - 1e-6 && hi <= 2.0 * stddev + 1e-6,
        "{name}: not truncated at 2σ"
    );
    assert!(mean.abs() < 0.05 * stddev, "{name}: mean {mean}");
    assert!(
        (var / target_var - 1.0).abs() < 0.08,
        "{name}: variance {var} vs {target_var}"
    );
}

#[test]
fn variance_scaling_family_uses_conv_fans() {
    check_uniform("glorot_uniform", (6.0 / (FAN_IN + FAN_OUT)).sqrt());
    check_uniform("he_uniform", (6.0 / FAN_IN).sqrt());
    check_uniform("lecun_uniform", (3.0 / FAN_IN).sqrt());
    check_truncated("glorot_normal", 2.0 / (FAN_IN + FAN_OUT));
    check_truncated("he_normal", 2.0 / FAN_IN);
    check_truncated("lecun_normal", 1.0 / FAN_IN);
    check_truncated("variance_scaling", 1.0 / FAN_IN);
}

#[test]
fn plain_random_initializers() {
    check_uniform("random_uniform", 0.05);
    let (mean, var, ..) = stats(
        &Initializer::get("random_normal")
            .unwrap()
            .sample(&SHAPE, Some(3))
            .unwrap(),
    );
    assert!(mean.abs() < 0.003 && (var.sqrt() / 0.05 - 1.0).abs() < 0.05);
    let v = Initializer::get("truncated_normal")
        .unwrap()
        .sample(&SHAPE, Some(4))
        .unwrap();
    let (_, _, lo, hi) = stats(&v);
    assert!(lo >= -0.1 - 1e-7 && hi <= 0.1 + 1e-7);
}

#[test]
fn constants_and_seeds() {
    assert!(Initializer::get("zeros")
        .unwrap()
        .sample(&[4], None)
        .unwrap()
        .iter()
        .all(|v| *v == 0.0));
    assert!(Initializer::get("one")
        .unwrap()
        .sample(&[4], None)
        .unwrap()
        .iter()
        .all(|v| *v == 1.0));
    let c = Initializer::from_keras(&serde_json::json!({"class_name": "Constant", "config": {"value": 0.25}})).unwrap();
    assert!(c.sample(&[3], None).unwrap().iter().all(|v| *v == 0.25));
    let a = Initializer::get("he_normal").unwrap().sample(&SHAPE, Some(5)).unwrap();
    let b = Initializer::get("he_normal").unwrap().sample(&SHAPE, Some(5)).unwrap();
    let c = Initializer::get("he_normal").unwrap().sample(&SHAPE, Some(6)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // A seed in the config wins over the caller's.
    let seeded =
        Initializer::from_keras(&serde_json::json!({"class_name": "HeNormal", "config": {"seed": 9}})).unwrap();
    assert_eq!(
        seeded.sample(&SHAPE, Some(1)).unwrap(),
        seeded.sample(&SHAPE, Some(2)).unwrap()
    );
}

#[test]
fn orthogonal_columns_are_orthonormal() {
    let gain = 1.5;
    let init =
        Initializer::from_keras(&serde_json::json!({"class_name": "Orthogonal", "config": {"gain": gain}})).unwrap();
    for shape in [[3usize, 3, 4, 8], [1, 1, 2, 8]] {
        let v = init.sample(&shape, Some(2)).unwrap();
        let rows: usize = shape[..3].iter().product();
        let cols = shape[3];
        let at = |r: usize, c: usize| v[r * cols + c] as f64;
        // rows >= cols: WᵀW = gain²·I; rows < cols: WWᵀ = gain²·I.
        let (n, m, tr) = if rows >= cols {
            (cols, rows, false)
        } else {
            (rows, cols, true)
        };
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..m)
                    .map(|k| if tr { at(i, k) * at(j, k) } else { at(k, i) * at(k, j) })
                    .sum();
                let want = if i == j { gain * gain } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "{shape:?} ({i},{j}) {dot}");
            }
        }
    }
}

#[test]
fn every_keras_name_resolves_and_bad_ones_fail_like_keras() {
    for name in [
        "Zeros",
        "zeros",
        "zero",
        "Ones",
        "ones",
        "one",
        "Constant",
        "constant",
        "Identity",
        "identity",
        "IdentityInitializer",
        "RandomNormal",
        "random_normal",
        "normal",
        "TruncatedNormal",
        "truncated_normal",
        "RandomUniform",
        "random_uniform",
        "uniform",
        "VarianceScaling",
        "variance_scaling",
        "GlorotUniform",
        "glorot_uniform",
        "GlorotNormal",
        "glorot_normal",
        "HeUniform",
        "he_uniform",
        "HeNormal",
        "he_normal",
        "LecunUniform",
        "lecun_uniform",
        "LecunNormal",
        "lecun_normal",
        "Orthogonal",
        "orthogonal",
        "OrthogonalInitializer",
        "STFT",
        "stft",
        "STFTInitializer",
    ] {
        Initializer::get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let err = Initializer::get("identity")
        .unwrap()
        .sample(&[3, 3, 3, 8], None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Identity matrix initializer can only be used for 2D matrices. Received: shape=(3, 3, 3, 8) of rank 4."
    );
    assert!(matches!(
        Initializer::get("stft").unwrap().sample(&[3, 3, 3, 8], None),
        Err(Error::Unsupported(_))
    ));
    assert_eq!(
        Initializer::get("Glorot").unwrap_err().to_string(),
        "Could not interpret initializer identifier: Glorot"
    );
}
