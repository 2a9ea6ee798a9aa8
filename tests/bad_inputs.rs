//! TESTING.md B2, row by row: each bad input returns the right class of error, with a message naming
//! the argument and the value, creates no GPU resources and never panics; the valid edge rows succeed.

mod common;

use serde_json::json;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Device, Error, GpuContext, GpuOptions, Tensor};

fn config_error(config: serde_json::Value) -> Error {
    Conv2dConfig::from_keras_value(&config).unwrap_err()
}

#[test]
fn constructor_rows_1_to_11_fail_at_construction_with_named_values() {
    let rows: Vec<(u32, serde_json::Value, &str)> = vec![
        (1, json!({"filters": 0, "kernel_size": 3}), "filters=0"),
        (2, json!({"filters": 4, "kernel_size": [1, 0]}), "kernel_size=[1, 0]"),
        (
            3,
            json!({"filters": 4, "kernel_size": [3, 3, 3]}),
            "kernel_size=[3, 3, 3]",
        ),
        (3, json!({"filters": 4, "kernel_size": 2.5}), "kernel_size"),
        (
            4,
            json!({"filters": 4, "kernel_size": 3, "strides": [0, 1]}),
            "strides=[0, 1]",
        ),
        (
            5,
            json!({"filters": 4, "kernel_size": 3, "dilation_rate": [1, 0]}),
            "dilation_rate=[1, 0]",
        ),
        (6, json!({"filters": -3, "kernel_size": 3}), "filters=-3"),
        (6, json!({"filters": 4, "kernel_size": -2}), "kernel_size=-2"),
        (
            7,
            json!({"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}),
            "strides=(2, 2) and dilation_rate=(2, 2)",
        ),
        (8, json!({"filters": 4, "kernel_size": 3, "groups": 0}), "groups=0"),
        (
            9,
            json!({"filters": 5, "kernel_size": 3, "groups": 2}),
            "groups=2, filters=5",
        ),
        (
            10,
            json!({"filters": 4, "kernel_size": 3, "padding": "full"}),
            "Received: full",
        ),
        (10, json!({"filters": 4, "kernel_size": 3, "padding": ""}), "Received: "),
        (
            11,
            json!({"filters": 4, "kernel_size": 3, "data_format": "NCHW"}),
            "data_format=nchw",
        ),
    ];
    for (row, config, named) in rows {
        let err = config_error(config.clone());
        assert!(err.to_string().contains(named), "row {row}: {config} -> {err}");
    }
    // "SAME"/"Valid" are accepted, as Keras lower-cases them.
    assert!(Conv2dConfig::from_keras_value(&json!({"filters": 4, "kernel_size": 3, "padding": "SAME"})).is_ok());
    assert!(Conv2dConfig::from_keras_value(&json!({"filters": 4, "kernel_size": 3, "padding": "Valid"})).is_ok());
}

fn built(config: Conv2dConfig, cin: usize) -> Conv2d {
    let mut layer = Conv2d::new(config).unwrap();
    layer.build(&[1, 8, 8, cin], Some(1)).unwrap();
    layer
}

#[test]
fn call_rows_fail_without_creating_gpu_resources() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions::default()).unwrap();
    let device = Device::Gpu(ctx.clone());
    let layer = built(Conv2dConfig::builder(4, 3).build().unwrap(), 3);
    let grouped = Conv2d::new(Conv2dConfig::builder(4, 3).groups(2).build().unwrap()).unwrap();
    let before = common::live_resources(&ctx);
    let cases: Vec<(u32, Result<Tensor, Error>, &str)> = vec![
        (
            12,
            layer.forward_on(&device, &Tensor::zeros([8, 8, 3]).unwrap()),
            "found ndim=3",
        ),
        (
            12,
            layer.forward_on(&device, &Tensor::zeros([1, 1, 8, 8, 3]).unwrap()),
            "input of shape (1, 1, 8, 8, 3)",
        ),
        (
            13,
            grouped
                .compute_output_shape(&[1, 8, 8, 3])
                .map(|_| Tensor::zeros([0]).unwrap()),
            "groups=2, but the input has 3 channels",
        ),
        (
            14,
            layer.forward_on(&device, &Tensor::zeros([1, 8, 8, 4]).unwrap()),
            "to have value 3, but received input with shape (1, 8, 8, 4)",
        ),
        (
            15,
            layer.forward_on(&device, &Tensor::zeros([1, 2, 8, 3]).unwrap()),
            "inputs shape=(1, 2, 8, 3)",
        ),
        (
            19,
            Conv2d::new(Conv2dConfig::builder(4, 1).build().unwrap())
                .unwrap()
                .compute_output_shape(&[1, 8, 8, 0])
                .map(|_| Tensor::zeros([0]).unwrap()),
            "has 0 channels",
        ),
        (
            22,
            Tensor::named("input", [1, 8, 8, 3], vec![0.0; 10]),
            "`input` has 10 elements, but shape (1, 8, 8, 3) needs 192",
        ),
        (
            24,
            Tensor::named("input", [usize::MAX / 2, 4, 1, 1], vec![]),
            "overflows",
        ),
    ];
    for (row, result, named) in cases {
        let err = result.err().unwrap_or_else(|| panic!("row {row}: no error"));
        assert!(err.to_string().contains(named), "row {row}: {err}");
    }
    ctx.wait_idle().unwrap();
    assert_eq!(
        common::live_resources(&ctx),
        before,
        "a rejected input created GPU resources"
    );
}

#[test]
fn weight_rows_20_21_name_both_shapes() {
    let mut layer = built(Conv2dConfig::builder(4, 3).build().unwrap(), 3);
    let err = layer
        .set_weights(&[Tensor::zeros([3, 3, 3, 5]).unwrap(), Tensor::zeros([4]).unwrap()])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Layer conv2d weight shape (3, 3, 3, 4) is not compatible with provided weight shape (3, 3, 3, 5)."
    );
    let err = layer
        .set_weights(&[Tensor::zeros([3, 3, 3, 4]).unwrap(), Tensor::zeros([7]).unwrap()])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Layer conv2d weight shape (4,) is not compatible with provided weight shape (7,)."
    );
}

#[test]
fn valid_edge_rows_16_17_18_succeed_and_empty_calls_do_no_gpu_work() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions::default()).unwrap();
    let device = Device::Gpu(ctx.clone());
    // Row 16: k_eff == H gives one output row.
    let valid = built(Conv2dConfig::builder(2, (4, 3)).build().unwrap(), 1);
    assert_eq!(
        valid
            .forward_on(&device, &Tensor::zeros([1, 4, 3, 1]).unwrap())
            .unwrap()
            .shape(),
        &[1, 1, 1, 2]
    );
    let same = built(Conv2dConfig::builder(2, 3).padding("same").build().unwrap(), 1);
    same.forward_on(&device, &Tensor::zeros([1, 4, 4, 1]).unwrap()).unwrap(); // weights resident, pipeline compiled
    ctx.wait_idle().unwrap();
    let before = common::live_resources(&ctx);
    // Row 17: empty batch; row 18: H = 0 with same. Both empty, with no bind group or dispatch.
    assert_eq!(
        same.forward_on(&device, &Tensor::zeros([0, 4, 4, 1]).unwrap())
            .unwrap()
            .shape(),
        &[0, 4, 4, 2]
    );
    assert_eq!(
        same.forward_on(&device, &Tensor::zeros([1, 0, 4, 1]).unwrap())
            .unwrap()
            .shape(),
        &[1, 0, 4, 2]
    );
    ctx.wait_idle().unwrap();
    assert_eq!(common::live_resources(&ctx), before);
}

#[test]
fn subnormal_inputs_give_the_ieee_or_the_flushed_value() {
    let layer = Conv2d::with_weights(
        Conv2dConfig::builder(1, 1).use_bias(false).build().unwrap(),
        Tensor::new([1, 1, 1, 1], vec![0.5]).unwrap(),
        None,
    )
    .unwrap();
    let tiny = f32::MIN_POSITIVE / 4.0; // subnormal
    let x = Tensor::new([1, 1, 2, 1], vec![tiny, 1.0]).unwrap();
    let mut devices = vec![Device::Cpu];
    if let Some(ctx) = common::gpu::gpu() {
        devices.push(Device::Gpu(ctx));
    }
    for device in &devices {
        let y = layer.forward_on(device, &x).unwrap();
        assert!(
            y.data()[0] == tiny * 0.5 || y.data()[0] == 0.0,
            "{}: {}",
            device.describe(),
            y.data()[0]
        );
        assert_eq!(y.data()[1], 0.5);
    }
}
