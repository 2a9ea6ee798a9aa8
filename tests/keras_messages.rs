//! Keras's own error text (tests/fixtures/keras_errors.json, written by real Keras) for each class of mistake.

mod common;

use serde_json::Value;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Error, Tensor};

/// Runs one fixture row the way the generator ran it in Keras, returning the first error.
fn first_error(row: &Value) -> Option<Error> {
    let config = match Conv2dConfig::from_keras_value(&row["config"]) {
        Ok(c) => c,
        Err(e) => return Some(e),
    };
    let mut layer = Conv2d::new(config).unwrap();
    let shape: Option<Vec<usize>> = serde_json::from_value(row["input_shape"].clone()).unwrap();
    let lora = row["lora"].as_u64();
    if let Some(shape) = shape {
        if let Err(e) = layer.build(&shape, Some(1)) {
            return Some(e);
        }
        if let Some(weights) = row["weights"].as_array() {
            let tensors: Vec<Tensor> = weights
                .iter()
                .map(|s| {
                    let s: Vec<usize> = serde_json::from_value(s.clone()).unwrap();
                    Tensor::zeros(s).unwrap()
                })
                .collect();
            if let Err(e) = layer.set_weights(&tensors) {
                return Some(e);
            }
        }
        for _ in 0..lora.unwrap_or(0) {
            if let Err(e) = layer.enable_lora(2, None, Some(1)) {
                return Some(e);
            }
        }
    } else if lora.is_some() {
        return layer.enable_lora(2, None, Some(1)).err();
    }
    None
}

#[test]
fn every_keras_message_is_reproduced_exactly() {
    let text = std::fs::read_to_string(common::fixture("keras_errors.json")).unwrap();
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(rows.len() >= 30);
    for row in &rows {
        let expected = row["error"].as_str().unwrap();
        let got = first_error(row).unwrap_or_else(|| panic!("no error for {row}"));
        assert_eq!(
            common::canonical_sets(&got.to_string()),
            common::canonical_sets(expected),
            "config {}",
            row["config"]
        );
    }
}

#[test]
fn call_time_messages_match_keras() {
    // Texts from Keras 3.15.1 for a layer named "conv2d" built for (1, 5, 5, 3).
    let config = Conv2dConfig::builder(4, 3).build().unwrap();
    let mut layer = Conv2d::new(config).unwrap();
    layer.build(&[1, 5, 5, 3], Some(0)).unwrap();
    let err = layer.forward(&Tensor::zeros([5, 5, 3]).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Input 0 with name 'None' of layer 'conv2d' is incompatible with the layer: expected min_ndim=4, found ndim=3. Full shape received: (5, 5, 3)"
    );
    let err = layer.forward(&Tensor::zeros([1, 5, 5, 2]).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Input 0 with name 'None' of layer 'conv2d' is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape (1, 5, 5, 2)"
    );
    let err = layer.forward(&Tensor::zeros([1, 5, 5, 3, 2]).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Kernel shape must have the same length as input, but received kernel of shape (3, 3, 2, 4) and input of shape (1, 5, 5, 3, 2)."
    );
    let glu = Conv2dConfig::builder(5, 3).activation("glu").build().unwrap();
    let mut layer = Conv2d::new(glu).unwrap();
    layer.build(&[1, 5, 5, 3], Some(0)).unwrap();
    let err = layer.forward(&Tensor::zeros([1, 5, 5, 3]).unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("axis size must be divisible by 2. Received: x.shape=(1, 3, 3, 5)"),
        "{err}"
    );
    assert!(matches!(
        Conv2dConfig::builder(4, 3).activation("threshold").build(),
        Err(Error::Unsupported(m)) if m.contains("threshold") && m.contains("default_value")
    ));
}

#[test]
fn builder_tuples_print_as_python_tuples() {
    let err = Conv2dConfig::builder(4, (1, 0)).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "The `kernel_size` argument must be a tuple of 2 integers. Received kernel_size=(1, 0), including values {0} that do not satisfy `value > 0`"
    );
    let err = Conv2dConfig::builder(4, 3)
        .strides(2)
        .dilation_rate((2, 1))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=(2, 2) and dilation_rate=(2, 1)"
    );
}

#[test]
fn buffers_and_weights_are_checked() {
    let err = Tensor::named("input", [1, 2, 2, 3], vec![0.0; 11]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`input` has 11 elements, but shape (1, 2, 2, 3) needs 12"
    );
    let err = Tensor::new([usize::MAX, 2], vec![]).unwrap_err();
    assert!(matches!(err, Error::SizeOverflow(_)));
    let config = Conv2dConfig::builder(4, 3).build().unwrap();
    let err = Conv2d::with_weights(config.clone(), Tensor::zeros([3, 3, 2, 4]).unwrap(), None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WeightCount {
                expected: 2,
                received: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = Conv2d::with_weights(
        config,
        Tensor::zeros([3, 2, 2, 4]).unwrap(),
        Some(Tensor::zeros([4]).unwrap()),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Layer conv2d weight shape (3, 3, 2, 4) is not compatible with provided weight shape (3, 2, 2, 4)."
    );
    let unbuilt = Conv2d::new(Conv2dConfig::builder(4, 3).build().unwrap()).unwrap();
    assert!(matches!(
        unbuilt.forward(&Tensor::zeros([1, 5, 5, 2]).unwrap()),
        Err(Error::NotBuilt(..))
    ));
}
