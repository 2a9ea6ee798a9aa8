//! `get_config()` JSON written by real Keras round-trips through the crate unchanged.

mod common;

use serde_json::Value;
use wgpu_conv2d::{Activation, Conv2d, Conv2dConfig, DataFormat, Padding};

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::fixture("keras_configs.json")).unwrap()).unwrap()
}

#[test]
fn keras_configs_round_trip_byte_for_byte() {
    let f = fixture();
    let configs = f["configs"].as_array().unwrap();
    assert!(configs.len() >= 10);
    for keras in configs {
        let ours = Conv2dConfig::from_keras_value(keras).unwrap().to_keras_value();
        assert_eq!(ours.to_string(), keras.to_string());
        // And through text, as a user would pass it.
        let again = Conv2dConfig::from_keras_json(&ours.to_string())
            .unwrap()
            .to_keras_value();
        assert_eq!(again, ours);
    }
}

#[test]
fn saved_model_entry_is_read() {
    let f = fixture();
    let config = Conv2dConfig::from_keras_value(&f["saved_model_entry"]).unwrap();
    assert_eq!(config.name, "c");
    assert_eq!(config.filters, 4);
    assert_eq!(config.kernel_size, [3, 3]);
}

#[test]
fn builder_defaults_equal_keras_defaults() {
    let f = fixture();
    let keras_default = &f["configs"][0]; // Conv2D(32, 3)
    let name = keras_default["name"].as_str().unwrap(); // Keras numbers its default names
    let ours = Conv2dConfig::builder(32, 3)
        .name(name)
        .build()
        .unwrap()
        .to_keras_value();
    assert_eq!(ours.to_string(), keras_default.to_string());
}

#[test]
fn normalisation_follows_keras() {
    let c = Conv2dConfig::builder(4, (3, 5))
        .padding("SAME")
        .data_format("Channels_First")
        .activation("swish")
        .build()
        .unwrap();
    assert_eq!(c.padding, Padding::Same);
    assert_eq!(c.data_format, DataFormat::ChannelsFirst);
    assert_eq!(c.activation, Activation::Silu);
    let v = c.to_keras_value();
    assert_eq!(v["activation"], "silu");
    assert_eq!(v["padding"], "same");
    assert_eq!(v["kernel_size"], serde_json::json!([3, 5]));
    assert!(Conv2dConfig::builder(4, 3).activation("Relu").build().is_err());
}

#[test]
fn lora_keys_appear_only_when_set() {
    let plain = Conv2dConfig::builder(4, 3).build().unwrap().to_keras_value();
    assert!(plain.get("lora_rank").is_none() && plain.get("lora_alpha").is_none());
    let mut layer = Conv2d::new(Conv2dConfig::builder(4, 3).build().unwrap()).unwrap();
    layer.build(&[1, 5, 5, 2], Some(3)).unwrap();
    layer.enable_lora(2, None, Some(4)).unwrap();
    let v = layer.get_config();
    assert_eq!(v["lora_rank"], 2);
    assert_eq!(v["lora_alpha"], 2);
}
