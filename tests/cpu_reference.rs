//! The crate's CPU path against the independent oracle (tests/common/oracle.rs), exact on integer data,
//! over a deterministic sweep of the TESTING.md P1 space, plus metamorphic relations.

mod common;

use common::oracle::{conv_nhwc, to_nchw, Problem};
use common::TestRng;
use wgpu_conv2d::weights::{kernel_from_oihw, kernel_to_oihw};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Error, Tensor};

fn layer_for(p: &Problem, channels_first: bool, bias: bool) -> Conv2dConfig {
    p.config(channels_first, bias, "linear").unwrap()
}

#[test]
fn integer_data_matches_oracle_bitwise_over_generated_problems() {
    let mut rng = TestRng(0x5EED);
    let (mut checked, mut rejected) = (0, 0);
    for _ in 0..2000 {
        let p = Problem::random(&mut rng, 0);
        let groups = p.groups;
        let (cf, bias) = (rng.int(0, 1) == 1, rng.int(0, 1) == 1);
        let config = p.config(cf, bias, "linear");
        if p.sh.max(p.sw) > 1 && p.dh.max(p.dw) > 1 {
            assert!(matches!(config, Err(Error::StridesWithDilation { .. })));
            rejected += 1;
            continue;
        }
        let config = config.unwrap();
        let x: Vec<f32> = (0..p.n * p.h * p.w * p.c).map(|_| rng.int(-3, 3) as f32).collect();
        let k: Vec<f32> = (0..p.kh * p.kw * (p.c / groups) * p.f)
            .map(|_| rng.int(-3, 3) as f32)
            .collect();
        let b: Vec<f32> = (0..p.f).map(|_| rng.int(-3, 3) as f32).collect();
        let layer = Conv2d::with_weights(
            config,
            Tensor::new([p.kh, p.kw, p.c / groups, p.f], k.clone()).unwrap(),
            bias.then(|| Tensor::new([p.f], b.clone()).unwrap()),
        )
        .unwrap();
        let shape_in = [p.n, p.h, p.w, p.c];
        let input = if cf {
            Tensor::new([p.n, p.c, p.h, p.w], to_nchw(&x, shape_in))
        } else {
            Tensor::new(shape_in, x.clone())
        }
        .unwrap();
        let expected = conv_nhwc(&p, &x, &k, bias.then_some(&b[..]));
        match (layer.forward(&input), expected) {
            (Ok(got), Some((want, shape))) => {
                let want: Vec<f32> = if cf { to_nchw(&want, shape) } else { want }
                    .into_iter()
                    .map(|v| v as f32)
                    .collect();
                assert_eq!(got.data(), &want[..], "{p:?} cf={cf}");
                checked += 1;
            }
            (Err(Error::OutputSizeNonPositive { .. }), None) => rejected += 1,
            (got, want) => panic!(
                "{p:?}: crate {:?} vs oracle {:?}",
                got.map(|t| t.shape().to_vec()),
                want.map(|w| w.1)
            ),
        }
    }
    println!("{checked} problems matched bitwise, {rejected} rejected as Keras rejects them");
    assert!(checked > 500);
}

#[test]
fn grouped_equals_concatenated_per_group_convolutions() {
    let mut rng = TestRng(77);
    let (g, cg, fg) = (3usize, 2usize, 2usize);
    let p = Problem {
        n: 1,
        h: 6,
        w: 5,
        c: g * cg,
        f: g * fg,
        kh: 3,
        kw: 2,
        sh: 1,
        sw: 2,
        dh: 1,
        dw: 1,
        groups: g,
        same: true,
    };
    let x: Vec<f32> = (0..p.h * p.w * p.c).map(|_| rng.int(-4, 4) as f32).collect();
    let k: Vec<f32> = (0..p.kh * p.kw * cg * p.f).map(|_| rng.int(-4, 4) as f32).collect();
    let whole = Conv2d::with_weights(
        layer_for(&p, false, false),
        Tensor::new([3, 2, cg, p.f], k.clone()).unwrap(),
        None,
    )
    .unwrap()
    .forward(&Tensor::new([1, p.h, p.w, p.c], x.clone()).unwrap())
    .unwrap();
    let sub = Problem {
        c: cg,
        f: fg,
        groups: 1,
        ..p
    };
    for group in 0..g {
        let xs: Vec<f32> = x
            .chunks(p.c)
            .flat_map(|px| px[group * cg..(group + 1) * cg].to_vec())
            .collect();
        let ks: Vec<f32> = k
            .chunks(p.f)
            .flat_map(|row| row[group * fg..(group + 1) * fg].to_vec())
            .collect();
        let part = Conv2d::with_weights(
            layer_for(&sub, false, false),
            Tensor::new([3, 2, cg, fg], ks).unwrap(),
            None,
        )
        .unwrap()
        .forward(&Tensor::new([1, p.h, p.w, cg], xs).unwrap())
        .unwrap();
        for (pix, out) in part.data().chunks(fg).zip(whole.data().chunks(p.f)) {
            assert_eq!(pix, &out[group * fg..(group + 1) * fg]);
        }
    }
}

#[test]
fn convolution_op_is_conv_without_bias_or_activation() {
    let config = Conv2dConfig::builder(2, 2).activation("relu").build().unwrap();
    let kernel = Tensor::new([2, 2, 1, 2], vec![1.0, -1.0, 2.0, -2.0, 0.0, 0.0, 1.0, 1.0]).unwrap();
    let layer = Conv2d::with_weights(
        config,
        kernel.clone(),
        Some(Tensor::new([2], vec![10.0, 10.0]).unwrap()),
    )
    .unwrap();
    let x = Tensor::new([1, 2, 2, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    // y = 1·1 + 2·2 + 3·0 + 4·1 = 9 for filter 0; the other filter is −1 −4 + 0 + 4 = −1 (negative: no relu).
    let y = layer.convolution_op(&x, &kernel).unwrap();
    assert_eq!(y.data(), &[9.0, -1.0]);
    assert_eq!(layer.forward(&x).unwrap().data(), &[19.0, 9.0]);
}

#[test]
fn lora_forward_uses_merged_kernel() {
    let config = Conv2dConfig::builder(2, 1).use_bias(false).build().unwrap();
    let mut layer = Conv2d::with_weights(
        config,
        Tensor::new([1, 1, 2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap(),
        None,
    )
    .unwrap();
    layer.enable_lora(1, Some(2.0), Some(0)).unwrap();
    let a = Tensor::new([1, 1, 2, 1], vec![1.0, 2.0]).unwrap();
    let b = Tensor::new([1, 2], vec![0.5, -1.0]).unwrap();
    let base = layer.get_weights().unwrap()[0].clone();
    layer.set_weights(&[base, a, b]).unwrap();
    // W' = W + (2/1)·A@B = [[1+1, −2], [2, 1−4]].
    assert_eq!(layer.kernel().unwrap().data(), &[2.0, -2.0, 2.0, -3.0]);
    let y = layer
        .forward(&Tensor::new([1, 1, 1, 2], vec![1.0, 1.0]).unwrap())
        .unwrap();
    assert_eq!(y.data(), &[4.0, -5.0]);
    assert!(matches!(
        layer.enable_lora(1, None, None),
        Err(Error::LoraAlreadyEnabled)
    ));
}

#[test]
fn pytorch_oihw_conversion_round_trips() {
    let oihw = Tensor::new([2, 3, 2, 1], (0..12).map(|v| v as f32).collect()).unwrap();
    let hwio = kernel_from_oihw(&oihw).unwrap();
    assert_eq!(hwio.shape(), &[2, 1, 3, 2]);
    // OIHW[o=1, i=2, h=1, w=0] = ((1·3 + 2)·2 + 1)·1 + 0 = 11 → HWIO[1, 0, 2, 1].
    let (h, w, i, o, wd, id, od) = (1, 0, 2, 1, 1, 3, 2);
    assert_eq!(hwio.data()[((h * wd + w) * id + i) * od + o], 11.0);
    assert_eq!(kernel_to_oihw(&hwio).unwrap(), oihw);
}

#[test]
fn empty_inputs_give_empty_outputs() {
    let layer = Conv2d::with_weights(
        Conv2dConfig::builder(3, 3).padding("same").build().unwrap(),
        Tensor::zeros([3, 3, 2, 3]).unwrap(),
        Some(Tensor::zeros([3]).unwrap()),
    )
    .unwrap();
    assert_eq!(
        layer.forward(&Tensor::zeros([0, 4, 4, 2]).unwrap()).unwrap().shape(),
        &[0, 4, 4, 3]
    );
    assert_eq!(
        layer.forward(&Tensor::zeros([1, 0, 4, 2]).unwrap()).unwrap().shape(),
        &[1, 0, 4, 3]
    );
    let zero_channels = Conv2d::new(Conv2dConfig::builder(3, 1).build().unwrap()).unwrap();
    assert!(zero_channels.compute_output_shape(&[1, 4, 4, 0]).is_err());
}
