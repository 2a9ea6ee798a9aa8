//! Property tests (TESTING.md B5). Configs valid and invalid, with the right error for each invalid
//! one; geometry; and the planner's split/fold plan under arbitrary device limits, which must never
//! panic and must cover every output element exactly once within the limits. This is the
//! proptest equivalent of a `cargo fuzz` target and runs in CI (`PROPTEST_CASES` raises the count).

mod common;

use proptest::prelude::*;
use serde_json::json;
use wgpu_conv2d::conv::ConvParams;
use wgpu_conv2d::conv::{DataFormat, Padding};
use wgpu_conv2d::gpu::kernels::Epilogue;
use wgpu_conv2d::gpu::plan::plan;
use wgpu_conv2d::gpu::{AlgorithmFilter, DeviceCaps, ElementType, KernelFamily};
use wgpu_conv2d::{Conv2dConfig, Conv2dGeometry, Error};

fn arbitrary_config() -> impl Strategy<Value = serde_json::Value> {
    (
        -2i64..70,
        prop_oneof![
            (-1i64..6).prop_map(|k| json!(k)),
            prop::collection::vec(-1i64..6, 1..4).prop_map(|v| json!(v))
        ],
        prop::collection::vec(-1i64..4, 2..=2),
        prop::collection::vec(-1i64..4, 2..=2),
        -1i64..5,
        prop_oneof![Just("same"), Just("VALID"), Just("causal"), Just("")],
        prop_oneof![Just("channels_last"), Just("Channels_First"), Just("nhwc")],
        prop_oneof![Just("relu"), Just("swish"), Just("ReLU"), Just("glu")],
    )
        .prop_map(|(filters, kernel, strides, dilation, groups, padding, format, act)| {
            json!({"filters": filters, "kernel_size": kernel, "strides": strides, "dilation_rate": dilation,
                   "groups": groups, "padding": padding, "data_format": format, "activation": act})
        })
}

/// The first Keras rule a config breaks, in Keras's order, or None.
fn first_violation(c: &serde_json::Value) -> Option<&'static str> {
    let pair = |v: &serde_json::Value| -> Option<Vec<i64>> {
        match v {
            serde_json::Value::Array(a) if a.len() == 2 => Some(a.iter().map(|x| x.as_i64().unwrap()).collect()),
            serde_json::Value::Array(_) => None,
            x => Some(vec![x.as_i64().unwrap(); 2]),
        }
    };
    let tuples = ["kernel_size", "strides", "dilation_rate"].map(|k| (k, pair(&c[k])));
    for (name, t) in &tuples {
        match t {
            None => return Some(name),
            Some(v) if v.iter().any(|x| *x <= 0) => return Some(name),
            _ => {}
        }
    }
    if !["same", "valid"].contains(&c["padding"].as_str().unwrap().to_lowercase().as_str()) {
        return Some("padding");
    }
    if c["data_format"] == "nhwc" {
        return Some("data_format");
    }
    if c["activation"] == "ReLU" {
        return Some("activation");
    }
    let (f, g) = (c["filters"].as_i64().unwrap(), c["groups"].as_i64().unwrap());
    if f <= 0 {
        return Some("filters");
    }
    if g <= 0 {
        return Some("groups");
    }
    if f % g != 0 {
        return Some("divisible");
    }
    let (s, d) = (tuples[1].1.clone().unwrap(), tuples[2].1.clone().unwrap());
    if s.iter().max() > Some(&1) && d.iter().max() > Some(&1) {
        return Some("strides > 1");
    }
    None
}

/// 512 cases per property in CI; `PROPTEST_CASES` raises it for long runs.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn configs_are_accepted_or_rejected_by_the_first_rule_they_break(c in arbitrary_config()) {
        let result = Conv2dConfig::from_keras_value(&c);
        match first_violation(&c) {
            None => prop_assert!(result.is_ok(), "{c}: {:?}", result.err()),
            Some(rule) => {
                let err = result.expect_err("an invalid config was accepted").to_string();
                prop_assert!(err.contains(rule), "{c}: expected the `{rule}` rule, got {err}");
            }
        }
    }

    #[test]
    fn geometry_never_panics_and_matches_keras_output_sizes(
        n in 0usize..4, h in 0usize..40, w in 0usize..40, c in 1usize..9,
        k in 1u32..8, s in 1u32..4, d in 1u32..4, same in any::<bool>(),
    ) {
        let p = ConvParams { filters: 2, kernel_size: [k, k], strides: [s, s], dilation_rate: [d, d],
            padding: if same { Padding::Same } else { Padding::Valid }, groups: 1, data_format: DataFormat::ChannelsLast };
        let eff = ((k - 1) * d + 1) as i64;
        let keras = |i: usize| if same { (i as i64 - 1).div_euclid(s as i64) + 1 } else { (i as i64 - eff).div_euclid(s as i64) + 1 };
        match Conv2dGeometry::new(&p, [n, h, w, c]) {
            Ok(g) => prop_assert_eq!((g.out_h as i64, g.out_w as i64), (keras(h), keras(w))),
            Err(Error::OutputSizeNonPositive { .. }) => prop_assert!(!same && (keras(h) <= 0 || keras(w) <= 0)),
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn plans_cover_every_output_once_within_arbitrary_limits(
        n in 1usize..5, h in 1usize..70, w in 1usize..70, cg in 1usize..9, fg in 1usize..9, groups in 1usize..4,
        k in 1u32..6, s in 1u32..3, same in any::<bool>(), first in any::<bool>(), subgroup8 in any::<bool>(), software in any::<bool>(),
        family in 0usize..4, softmax in any::<bool>(),
        binding_kib in 1u64..512, workgroups_per_dim in 1u32..300,
    ) {
        let p = ConvParams { filters: (fg * groups) as u32, kernel_size: [k, k], strides: [s, s], dilation_rate: [1, 1],
            padding: if same { Padding::Same } else { Padding::Valid }, groups: groups as u32,
            data_format: if first { DataFormat::ChannelsFirst } else { DataFormat::ChannelsLast } };
        let shape = if first { [n, cg * groups, h, w] } else { [n, h, w, cg * groups] };
        let Ok(g) = Conv2dGeometry::new(&p, shape) else { return Ok(()) };
        let limits = DeviceCaps { subgroup8, software,
            ..DeviceCaps::with_limits(binding_kib * 1024, binding_kib * 2048, workgroups_per_dim) };
        let family = [KernelFamily::Auto, KernelFamily::SubgroupBroadcast, KernelFamily::WorkgroupTiles, KernelFamily::Direct][family];
        let filter = AlgorithmFilter { family, only: None };
        let activation = if softmax { wgpu_conv2d::Activation::Softmax } else { wgpu_conv2d::Activation::Relu };
        let Ok(pl) = plan(&g, &limits, &filter, ElementType::F32, Epilogue::new(activation, true)) else {
            return Ok(()) // refusals name the limit (unit-tested)
        };
        let mut covered = vec![0u8; g.batch * g.out_h];
        for cp in &pl.chunks {
            let c = &cp.chunk;
            for b in c.batch_start..c.batch_start + c.batch_len {
                for r in c.out_row_start..c.out_row_start + c.out_rows {
                    covered[b * g.out_h + r] += 1;
                }
            }
            let out_bytes = (c.batch_len * c.out_rows * g.out_w * g.filters * 4) as u64;
            prop_assert!(out_bytes <= limits.max_tensor_bytes());
            let cg = pl.conv_geometry;
            prop_assert_eq!(cp.conv.output_len, c.batch_len * c.out_rows * cg.out_w * cg.filters);
            let written = cp.unpack.as_ref().map_or(cp.conv.output_len, |u| u.output_len);
            prop_assert_eq!(written, c.batch_len * c.out_rows * g.out_w * g.filters);
            for step in std::iter::once(&cp.conv).chain(&cp.pack).chain(&cp.unpack).chain(&cp.last_axis) {
                let d = step.dispatch;
                prop_assert!(d.x <= workgroups_per_dim && d.y <= workgroups_per_dim);
            }
        }
        prop_assert!(covered.iter().all(|&x| x == 1), "{covered:?}");
    }
}
