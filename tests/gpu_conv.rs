//! The GPU path against the independent f64 oracle on lavapipe (or any adapter): integer data must
//! match exactly (T0), float data within TESTING.md's T1 gate; outputs are pre-filled with NaN.

mod common;

use common::oracle::{conv_nhwc, to_nchw, Problem};
use common::TestRng;
use wgpu_conv2d::activation::{apply_last_axis, Activation, ACTIVATION_NAMES};
use wgpu_conv2d::gpu::kernels::{depthwise, grouped, igemm_subgroup, igemm_tiled, texture_weights, AlgorithmId};
use wgpu_conv2d::{Conv2d, Conv2dConfig, Conv2dGeometry, Device, Tensor};

/// The algorithms a sweep ran, whether the layer was packed for them, and how often.
type Used = std::collections::HashMap<(AlgorithmId, bool), usize>;

fn used(kernels: &Used, id: AlgorithmId, packed: bool) -> bool {
    kernels.contains_key(&(id, packed))
}

const U32: f64 = 1.0 / (1u64 << 24) as f64;

struct Case {
    p: Problem,
    channels_first: bool,
    bias: bool,
    activation: Activation,
    x: Vec<f32>,
    k: Vec<f32>,
    b: Vec<f32>,
}

impl Case {
    fn layer(&self) -> Conv2d {
        let p = &self.p;
        let config = p
            .config(self.channels_first, self.bias, self.activation.keras_name())
            .unwrap();
        let kernel = Tensor::new([p.kh, p.kw, p.c / p.groups, p.f], self.k.clone()).unwrap();
        Conv2d::with_weights(
            config,
            kernel,
            self.bias.then(|| Tensor::new([p.f], self.b.clone()).unwrap()),
        )
        .unwrap()
    }

    fn input(&self) -> Tensor {
        let p = &self.p;
        let shape = [p.n, p.h, p.w, p.c];
        if self.channels_first {
            Tensor::new([p.n, p.c, p.h, p.w], to_nchw(&self.x, shape)).unwrap()
        } else {
            Tensor::new(shape, self.x.clone()).unwrap()
        }
    }

    /// Oracle output (layer layout, activated) with a per-element error bound.
    fn expected(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        let p = &self.p;
        let (z, shape) = conv_nhwc(p, &self.x, &self.k, self.bias.then_some(&self.b[..]))?;
        let ax: Vec<f32> = self.x.iter().map(|v| v.abs()).collect();
        let ak: Vec<f32> = self.k.iter().map(|v| v.abs()).collect();
        let ab: Vec<f32> = self.b.iter().map(|v| v.abs()).collect();
        let (s_abs, _) = conv_nhwc(p, &ax, &ak, self.bias.then_some(&ab[..]))?;
        let k_len = (p.kh * p.kw * p.c / p.groups) as f64;
        let factor = (2.0 * (k_len + 1.0)).min(10.0 * k_len.sqrt()) * U32;
        let (z, s_abs) = if self.channels_first {
            (to_nchw(&z, shape), to_nchw(&s_abs, shape))
        } else {
            (z, s_abs)
        };
        let out_shape = if self.channels_first {
            [shape[0], shape[3], shape[1], shape[2]]
        } else {
            shape
        };
        let act = self.activation;
        // T1 on the pre-activation value, carried through the activation's local slope, plus
        // the f32 evaluation of the activation itself.
        let t1: Vec<f64> = s_abs.iter().map(|s| factor * s + 1e-30).collect();
        let y = activate(act, &z, out_shape);
        let mut bound = vec![0.0; y.len()];
        if act.is_axis_reduction() {
            // Perturb the whole lane by its largest bound: the reductions mix every element.
            let len = out_shape[3];
            let out_len = y.len() / (z.len() / len.max(1)).max(1);
            for (lane, zl) in z.chunks(len).enumerate() {
                let tmax = t1[lane * len..(lane + 1) * len].iter().cloned().fold(0.0, f64::max);
                let mut worst = vec![0.0f64; out_len];
                for sign in [-1.0, 1.0] {
                    for i in 0..len {
                        let mut zz = zl.to_vec();
                        zz[i] += sign * tmax;
                        let mut o = vec![0.0; out_len];
                        apply_last_axis(act, &zz, &mut o);
                        for (w, (a, b)) in worst
                            .iter_mut()
                            .zip(o.iter().zip(&y[lane * out_len..(lane + 1) * out_len]))
                        {
                            *w = w.max((a - b).abs());
                        }
                    }
                }
                for (j, w) in worst.iter().enumerate() {
                    bound[lane * out_len + j] = len as f64 * w + 1e-5 * (1.0 + y[lane * out_len + j].abs());
                }
            }
        } else {
            for i in 0..y.len() {
                let slope = (act.apply(z[i] + t1[i]) - act.apply(z[i] - t1[i])).abs() / 2.0;
                bound[i] = slope + 2e-6 * (1.0 + y[i].abs()) + t1[i];
            }
        }
        Some((y, bound))
    }
}

fn activate(act: Activation, z: &[f64], shape: [usize; 4]) -> Vec<f64> {
    if !act.is_axis_reduction() {
        return z.iter().map(|v| act.apply(*v)).collect();
    }
    let len = shape[3];
    let out_len = if act == Activation::Glu { len / 2 } else { len };
    let mut out = vec![0.0; z.len() / len * out_len];
    for (lane, zl) in z.chunks(len).enumerate() {
        apply_last_axis(act, zl, &mut out[lane * out_len..(lane + 1) * out_len]);
    }
    out
}

fn random_problem(rng: &mut TestRng) -> Problem {
    let mut p = Problem::random(rng, 1);
    if p.sh.max(p.sw) > 1 {
        p.dh = 1;
        p.dw = 1;
    }
    p
}

fn run_case(device: &Device, case: &Case, exact: bool) -> Option<f64> {
    let layer = case.layer();
    let input = case.input();
    let (want, bound) = case.expected()?;
    let got = layer
        .forward_on(device, &input)
        .unwrap_or_else(|e| panic!("{:?}: {e}", case.p));
    assert_eq!(got.len(), want.len(), "{:?}", case.p);
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.data().iter().zip(&want).enumerate() {
        assert!(
            !g.is_nan(),
            "{:?} cf={} {:?}: element {i} unwritten (NaN)",
            case.p,
            case.channels_first,
            case.activation
        );
        let err = (*g as f64 - w).abs();
        if exact {
            assert_eq!(*g as f64, *w, "{:?} cf={}: element {i}", case.p, case.channels_first);
        } else {
            assert!(
                err <= bound[i],
                "{:?} cf={} {:?}: element {i}: {g} vs {w} (bound {:e})",
                case.p,
                case.channels_first,
                case.activation,
                bound[i]
            );
        }
        worst = worst.max(err / bound[i].max(1e-30));
    }
    Some(worst)
}

#[test]
fn integer_data_is_exact_on_generated_problems() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx);
    let mut rng = TestRng(0xC0FFEE);
    let mut ran = 0;
    for _ in 0..160 {
        let p = random_problem(&mut rng);
        let cg = p.c / p.groups;
        let case = Case {
            p,
            channels_first: rng.int(0, 1) == 1,
            bias: rng.int(0, 1) == 1,
            activation: Activation::Linear,
            x: (0..p.n * p.h * p.w * p.c).map(|_| rng.int(-4, 4) as f32).collect(),
            k: (0..p.kh * p.kw * cg * p.f).map(|_| rng.int(-4, 4) as f32).collect(),
            b: (0..p.f).map(|_| rng.int(-4, 4) as f32).collect(),
        };
        ran += run_case(&device, &case, true).is_some() as usize;
    }
    println!("{ran} generated integer problems matched the oracle exactly");
    assert!(ran > 80);
}

#[test]
fn float_data_within_t1_for_every_activation() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx);
    let mut rng = TestRng(0xF10A7);
    let (mut ran, mut worst) = (0, 0.0f64);
    for round in 0..3 {
        for (name, act) in ACTIVATION_NAMES {
            let mut p = random_problem(&mut rng);
            if act == Activation::Glu {
                p.f = p.groups * 2; // an even last axis for channels_last
            }
            let channels_first = round == 1;
            if act == Activation::Glu && channels_first {
                p.w = 8;
                p.sw = 1;
                p.dw = 1;
                p.kw = 1; // keep the output width (the last axis) even
            }
            let cg = p.c / p.groups;
            let scale = if act == Activation::Exponential { 0.5 } else { 1.0 };
            let case = Case {
                p,
                channels_first,
                bias: true,
                activation: act,
                x: (0..p.n * p.h * p.w * p.c).map(|_| rng.sym() * scale).collect(),
                k: (0..p.kh * p.kw * cg * p.f).map(|_| rng.sym()).collect(),
                b: (0..p.f).map(|_| rng.sym()).collect(),
            };
            if let Some(w) = run_case(&device, &case, false) {
                ran += 1;
                worst = worst.max(w);
            }
            let _ = name;
        }
    }
    println!("{ran} float problems within T1; worst error / bound = {worst:.3}");
    assert!(ran > 60);
}

#[test]
fn every_keras_golden_case_on_the_gpu() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx);
    let goldens = common::goldens();
    let mut worst = (0.0f64, String::new());
    for g in &goldens {
        let got = g.layer.forward_on(&device, &g.input).unwrap();
        let err = common::relative_error(&got, &g.expected);
        assert!(err <= 1e-5, "{}: relative error {err:e} on the GPU", g.name);
        if err > worst.0 {
            worst = (err, g.name.clone());
        }
    }
    println!(
        "{} Keras golden cases on the GPU; worst relative error {:e} ({})",
        goldens.len(),
        worst.0,
        worst.1
    );
}

#[test]
fn tiny_limits_split_and_fold_give_identical_results() {
    let (Some(big), Some(tiny)) = (common::gpu::gpu(), common::gpu::tiny_gpu()) else {
        return;
    };
    let mut rng = TestRng(0x71);
    // Shapes whose tensors exceed 64 KiB per binding and whose dispatch exceeds 8 workgroups per
    // dimension: batch splits, row bands with halos, and folds.
    for (p, cf) in [
        (
            Problem {
                n: 3,
                h: 40,
                w: 37,
                c: 6,
                f: 8,
                kh: 3,
                kw: 3,
                sh: 1,
                sw: 1,
                dh: 1,
                dw: 1,
                groups: 2,
                same: true,
            },
            false,
        ),
        (
            Problem {
                n: 1,
                h: 90,
                w: 61,
                c: 4,
                f: 6,
                kh: 5,
                kw: 4,
                sh: 2,
                sw: 1,
                dh: 1,
                dw: 1,
                groups: 1,
                same: true,
            },
            true,
        ),
        (
            Problem {
                n: 2,
                h: 70,
                w: 50,
                c: 3,
                f: 3,
                kh: 3,
                kw: 3,
                sh: 1,
                sw: 1,
                dh: 3,
                dw: 2,
                groups: 3,
                same: false,
            },
            false,
        ),
    ] {
        for activation in [Activation::Linear, Activation::Softmax] {
            let cg = p.c / p.groups;
            let case = Case {
                p,
                channels_first: cf,
                bias: true,
                activation,
                x: (0..p.n * p.h * p.w * p.c).map(|_| rng.sym()).collect(),
                k: (0..p.kh * p.kw * cg * p.f).map(|_| rng.sym()).collect(),
                b: (0..p.f).map(|_| rng.sym()).collect(),
            };
            let layer = case.layer();
            let input = case.input();
            let plan = layer
                .plan_on(&Device::Gpu(tiny.clone()), input.shape())
                .unwrap()
                .unwrap();
            assert!(
                plan.chunks.len() > 1,
                "{p:?}: expected a split, got {}",
                plan.describe()
            );
            let whole = layer.forward_on(&Device::Gpu(big.clone()), &input).unwrap();
            let split = layer.forward_on(&Device::Gpu(tiny.clone()), &input).unwrap();
            assert_eq!(
                whole.data(),
                split.data(),
                "{p:?} {activation:?}: split changed the result ({})",
                plan.describe()
            );
            run_case(&Device::Gpu(tiny.clone()), &case, false).unwrap();
        }
    }
}

#[test]
fn output_larger_than_128_mib_is_split_and_correct() {
    let Some(ctx) = common::gpu::gpu() else { return };
    // 1x2048x2048x1 -> 16 filters: a 256 MiB output, over lavapipe's 128 MiB binding limit.
    let (h, w, f) = (2048usize, 2048usize, 16usize);
    let mut rng = TestRng(0xB16);
    let x: Vec<f32> = (0..h * w).map(|_| rng.int(-4, 4) as f32).collect();
    let k: Vec<f32> = (0..9 * f).map(|_| rng.int(-4, 4) as f32).collect();
    let b: Vec<f32> = (0..f).map(|_| rng.int(-4, 4) as f32).collect();
    let config = Conv2dConfig::builder(f as i64, 3).padding("same").build().unwrap();
    let layer = Conv2d::with_weights(
        config,
        Tensor::new([3, 3, 1, f], k.clone()).unwrap(),
        Some(Tensor::new([f], b.clone()).unwrap()),
    )
    .unwrap();
    let input = Tensor::new([1, h, w, 1], x.clone()).unwrap();
    let plan = layer
        .plan_on(&Device::Gpu(ctx.clone()), input.shape())
        .unwrap()
        .unwrap();
    assert!(plan.chunks.len() > 1, "{}", plan.describe());
    let start = std::time::Instant::now();
    let got = layer.forward_on(&Device::Gpu(ctx), &input).unwrap();
    println!(
        "1x2048x2048x1 -> x16 (256 MiB out) in {:.2} s, {}",
        start.elapsed().as_secs_f64(),
        plan.describe()
    );
    // Integer data: every element exact. Check all of them against a direct f64 sum.
    let at = |y: i64, xx: i64| {
        if (0..h as i64).contains(&y) && (0..w as i64).contains(&xx) {
            x[y as usize * w + xx as usize] as f64
        } else {
            0.0
        }
    };
    for oy in 0..h {
        for ox in 0..w {
            for fi in 0..f {
                let mut acc = b[fi] as f64;
                for ky in 0..3 {
                    for kx in 0..3 {
                        acc += at(oy as i64 + ky - 1, ox as i64 + kx - 1)
                            * k[(ky as usize * 3 + kx as usize) * f + fi] as f64;
                    }
                }
                let g = got.data()[(oy * w + ox) * f + fi];
                assert_eq!(g as f64, acc, "({oy}, {ox}, {fi})");
            }
        }
    }
}

#[test]
fn weights_are_uploaded_once_and_refreshed_when_changed() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx);
    let config = Conv2dConfig::builder(2, 1).use_bias(false).build().unwrap();
    let mut layer = Conv2d::with_weights(config, Tensor::new([1, 1, 1, 2], vec![1.0, 2.0]).unwrap(), None).unwrap();
    let x = Tensor::new([1, 1, 1, 1], vec![3.0]).unwrap();
    assert_eq!(layer.forward_on(&device, &x).unwrap().data(), &[3.0, 6.0]);
    layer
        .set_weights(&[Tensor::new([1, 1, 1, 2], vec![-1.0, 5.0]).unwrap()])
        .unwrap();
    assert_eq!(layer.forward_on(&device, &x).unwrap().data(), &[-3.0, 15.0]);
    layer.enable_lora(1, Some(1.0), Some(0)).unwrap();
    let w = layer.get_weights().unwrap();
    layer
        .set_weights(&[
            w[0].clone(),
            Tensor::new([1, 1, 1, 1], vec![1.0]).unwrap(),
            Tensor::new([1, 2], vec![1.0, 1.0]).unwrap(),
        ])
        .unwrap();
    // LoRA-merged kernel [-1 + 1, 5 + 1] is what runs.
    assert_eq!(layer.forward_on(&device, &x).unwrap().data(), &[0.0, 18.0]);
}

#[test]
fn resident_chain_equals_host_calls_with_one_upload_and_one_readback() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let mut rng = TestRng(0xCA1);
    let mut layers = Vec::new();
    for (cin, f, k, s, act, groups) in [
        (3, 8, 3, 1, "relu", 1),
        (8, 8, 3, 2, "gelu", 4),
        (8, 6, 1, 1, "softmax", 2),
    ] {
        let config = Conv2dConfig::builder(f, k)
            .strides(s)
            .padding("same")
            .activation(act)
            .groups(groups)
            .build()
            .unwrap();
        let kernel: Vec<f32> = (0..k * k * (cin / groups) * f).map(|_| rng.sym()).collect();
        let kernel = Tensor::new([k as usize, k as usize, (cin / groups) as usize, f as usize], kernel).unwrap();
        let bias = Tensor::new([f as usize], (0..f).map(|_| rng.sym()).collect()).unwrap();
        layers.push(Conv2d::with_weights(config, kernel, Some(bias)).unwrap());
    }
    let x = Tensor::new([2, 16, 12, 3], (0..2 * 16 * 12 * 3).map(|_| rng.sym()).collect()).unwrap();
    let device = Device::Gpu(ctx.clone());
    let host = layers.iter().fold(x.clone(), |t, l| l.forward_on(&device, &t).unwrap());
    let resident = layers
        .iter()
        .fold(wgpu_conv2d::GpuTensor::upload(&ctx, &x).unwrap(), |t, l| {
            l.forward_gpu(&t).unwrap()
        });
    assert_eq!(resident.shape(), host.shape());
    assert_eq!(
        resident.download().unwrap(),
        host,
        "the resident chain runs the same kernels"
    );
    let cpu = layers.iter().fold(x, |t, l| l.forward(&t).unwrap());
    for (a, b) in host.data().iter().zip(cpu.data()) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
}

#[test]
fn implicit_gemm_path_is_exact_on_integers_and_within_t1_on_floats() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let device = Device::Gpu(ctx.clone());
    let mut rng = TestRng(0x16E);
    let mut kernels = Used::new();
    for round in 0..24 {
        // Channels and filters per group in multiples of 4: the implicit GEMM's domain where
        // 8-lane subgroups exist. Odd pixel counts leave partial row tiles; 9·4 filters a partial column tile.
        let groups = [1usize, 1, 2, 3][round % 4];
        let mut p = Problem::random(&mut rng, 1);
        p.groups = groups;
        p.c = groups * 4 * rng.int(1, 3) as usize;
        p.f = groups * 4 * [1, 2, 9, 16][rng.int(0, 3) as usize];
        if p.sh.max(p.sw) > 1 {
            p.dh = 1;
            p.dw = 1;
        }
        let cg = p.c / p.groups;
        let exact = round % 2 == 0;
        let draw = |rng: &mut TestRng| if exact { rng.int(-3, 3) as f32 } else { rng.sym() };
        let case = Case {
            p,
            channels_first: false,
            bias: round % 3 != 0,
            activation: if exact {
                Activation::Linear
            } else {
                [Activation::Relu, Activation::Gelu, Activation::Softmax][round % 3]
            },
            x: (0..p.n * p.h * p.w * p.c).map(|_| draw(&mut rng)).collect(),
            k: (0..p.kh * p.kw * cg * p.f).map(|_| draw(&mut rng)).collect(),
            b: (0..p.f).map(|_| draw(&mut rng)).collect(),
        };
        let layer = case.layer();
        if let Ok(Some(plan)) = layer.plan_on(&device, case.input().shape()) {
            *kernels
                .entry((plan.algorithm, plan.weight_prep.packing.is_some()))
                .or_insert(0) += 1;
        }
        run_case(&device, &case, exact);
    }
    println!("kernels used: {kernels:?}");
    assert!(used(&kernels, grouped::ID, false), "{kernels:?}");
    if ctx.caps().subgroup8 {
        assert!(used(&kernels, texture_weights::WIDE_ID, false), "{kernels:?}");
        assert!(used(&kernels, igemm_subgroup::NARROW_ID, false), "{kernels:?}");
    }
}

/// Runs generated problems built by `make` and reports which kernels the planner chose.
fn kernel_sweep(seed: u64, rounds: usize, make: impl Fn(&mut TestRng, usize) -> Problem) -> Used {
    kernel_sweep_on(common::gpu::gpu().unwrap(), seed, rounds, make)
}

/// [`kernel_sweep`] on a given context.
fn kernel_sweep_on(
    ctx: std::sync::Arc<wgpu_conv2d::GpuContext>,
    seed: u64,
    rounds: usize,
    make: impl Fn(&mut TestRng, usize) -> Problem,
) -> Used {
    let device = Device::Gpu(ctx.clone());
    let mut rng = TestRng(seed);
    let mut kernels = Used::new();
    for round in 0..rounds {
        let p = make(&mut rng, round);
        let cg = p.c / p.groups;
        let exact = round % 2 == 0;
        let draw = |rng: &mut TestRng| if exact { rng.int(-3, 3) as f32 } else { rng.sym() };
        let case = Case {
            p,
            channels_first: false,
            bias: round % 3 != 1,
            activation: if exact {
                Activation::Linear
            } else {
                [Activation::Relu6, Activation::Mish, Activation::LogSoftmax][round % 3]
            },
            x: (0..p.n * p.h * p.w * p.c).map(|_| draw(&mut rng)).collect(),
            k: (0..p.kh * p.kw * cg * p.f).map(|_| draw(&mut rng)).collect(),
            b: (0..p.f).map(|_| draw(&mut rng)).collect(),
        };
        if let Ok(Some(plan)) = case.layer().plan_on(&device, case.input().shape()) {
            *kernels
                .entry((plan.algorithm, plan.weight_prep.packing.is_some()))
                .or_insert(0) += 1;
        }
        run_case(&device, &case, exact);
    }
    kernels
}

#[test]
fn depthwise_path_matches_the_oracle() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let kernels = kernel_sweep(0xD3, 20, |rng, round| {
        let c = 4 * rng.int(1, 3) as usize;
        let mut p = Problem::random(rng, 1);
        (p.c, p.f, p.groups) = (c, c, c);
        if p.sh.max(p.sw) > 1 {
            (p.dh, p.dw) = (1, 1);
        }
        if round % 5 == 4 {
            // A window too wide for the tiled kernel's unrolled block: the loop kernel runs.
            (p.kh, p.kw, p.sh, p.sw, p.dh, p.dw) = (3, 3, 1, 1, 1, 9);
            p.w = p.w.max(20);
        }
        p
    });
    println!("kernels used: {kernels:?}");
    assert!(used(&kernels, depthwise::TILED_ID, false), "{kernels:?}");
    assert!(used(&kernels, depthwise::LOOP_ID, false), "{kernels:?}");
}

#[test]
fn channel_padded_path_matches_the_oracle() {
    let Some(ctx) = common::gpu::gpu() else { return };
    let kernels = kernel_sweep(0xC3, 12, |rng, _| {
        let mut p = Problem::random(rng, 1);
        (p.c, p.f, p.groups) = (
            [1usize, 2, 3, 5, 7][rng.int(0, 4) as usize],
            4 * [1, 3, 4, 5, 9][rng.int(0, 4) as usize],
            1,
        );
        if p.sh.max(p.sw) > 1 {
            (p.dh, p.dw) = (1, 1);
        }
        p
    });
    println!("kernels used: {kernels:?}");
    if ctx.caps().subgroup8 {
        let padded = true;
        assert!(used(&kernels, texture_weights::WIDE_ID, padded), "{kernels:?}");
        assert!(used(&kernels, igemm_subgroup::NARROW_ID, padded), "{kernels:?}");
    }
}

#[test]
fn workgroup_tiled_path_matches_the_oracle() {
    // The hardware-GPU kernel, forced on whatever adapter runs the tests (on lavapipe it is
    // correct but slow: workgroup memory is what software adapters punish).
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = wgpu_conv2d::GpuContext::new(&wgpu_conv2d::GpuOptions {
        kernel_family: wgpu_conv2d::KernelFamily::WorkgroupTiles,
        ..Default::default()
    })
    .unwrap();
    ctx.set_nan_fill_outputs(true);
    assert!(igemm_tiled::TILED.fits(ctx.caps()));
    let kernels = kernel_sweep_on(ctx, 0x7A1, 16, |rng, round| {
        let mut p = Problem::random(rng, 1);
        let groups = [1usize, 2, 1, 3][round % 4];
        p.groups = groups;
        // Partial K steps (channels not a multiple of 32), partial column tiles (36 filters),
        // channel padding (3 or 5 channels, groups = 1).
        p.c = if round % 4 == 2 {
            [3, 5][rng.int(0, 1) as usize]
        } else {
            groups * 4 * rng.int(1, 10) as usize
        };
        p.f = groups * 4 * [4, 9, 16][rng.int(0, 2) as usize];
        if p.sh.max(p.sw) > 1 {
            (p.dh, p.dw) = (1, 1);
        }
        p
    });
    println!("kernels used: {kernels:?}");
    assert!(used(&kernels, igemm_tiled::ID, false), "{kernels:?}");
    assert!(used(&kernels, igemm_tiled::ID, true), "{kernels:?}");
}

/// The registry drives this sweep: each algorithm, forced alone, runs every sample it lists (which
/// together cover its variants) in every element type, exact on integer data and within T1 on
/// float data with an activation, against the oracle, with NaN-prefilled outputs. A new algorithm's
/// samples join it with no edit here.
#[test]
fn every_registry_algorithm_matches_the_oracle_on_its_samples() {
    use wgpu_conv2d::gpu::kernels::registry;
    use wgpu_conv2d::gpu::ElementType;
    let Some(shared) = common::gpu::gpu() else { return };
    let mut rng = TestRng(0x5EED);
    for algorithm in registry() {
        let ctx = wgpu_conv2d::GpuContext::new(&wgpu_conv2d::GpuOptions {
            algorithms: Some(vec![algorithm.id()]),
            ..Default::default()
        })
        .unwrap();
        ctx.set_nan_fill_outputs(true);
        let device = Device::Gpu(ctx.clone());
        // f32 here; tests/gpu_half.rs sweeps every algorithm in f16 and bf16 through their policies.
        for element in algorithm.elements().iter().filter(|e| **e == ElementType::F32) {
            for (i, sample) in algorithm.samples().into_iter().enumerate() {
                let params = sample.params;
                let channels_first = params.data_format == wgpu_conv2d::DataFormat::ChannelsFirst;
                let [n, a, b, c] = sample.input_shape;
                let (h, w, c) = if channels_first { (b, c, a) } else { (a, b, c) };
                let layer_g = Conv2dGeometry::new(&params, sample.input_shape).unwrap();
                let (_, g) = wgpu_conv2d::gpu::kernels::run_geometry(*algorithm, &layer_g);
                if !algorithm.supports(&g, ctx.caps(), *element) {
                    // Only the subgroup GEMMs may decline here, on an adapter without 8-lane subgroups.
                    assert!(
                        wgpu_conv2d::gpu::kernels::declines_for_the_device(*algorithm, shared.caps()),
                        "{} declines its sample {sample:?} on {:?}",
                        algorithm.name(),
                        ctx.adapter_info().name
                    );
                    continue;
                }
                let p = Problem {
                    n,
                    h,
                    w,
                    c,
                    f: params.filters as usize,
                    kh: params.kernel_size[0] as usize,
                    kw: params.kernel_size[1] as usize,
                    sh: params.strides[0] as usize,
                    sw: params.strides[1] as usize,
                    dh: params.dilation_rate[0] as usize,
                    dw: params.dilation_rate[1] as usize,
                    groups: params.groups as usize,
                    same: params.padding == wgpu_conv2d::Padding::Same,
                };
                for exact in [true, false] {
                    let draw = |rng: &mut TestRng| if exact { rng.int(-3, 3) as f32 } else { rng.sym() };
                    let cg = p.c / p.groups;
                    let case = Case {
                        p,
                        channels_first,
                        bias: exact || i % 2 == 0,
                        activation: if exact {
                            Activation::Linear
                        } else {
                            [
                                Activation::Relu6,
                                Activation::Mish,
                                Activation::Softmax,
                                Activation::Gelu,
                            ][i % 4]
                        },
                        x: (0..p.n * p.h * p.w * p.c).map(|_| draw(&mut rng)).collect(),
                        k: (0..p.kh * p.kw * cg * p.f).map(|_| draw(&mut rng)).collect(),
                        b: (0..p.f).map(|_| draw(&mut rng)).collect(),
                    };
                    let plan = case.layer().plan_on(&device, case.input().shape()).unwrap().unwrap();
                    assert_eq!(plan.algorithm, algorithm.id(), "{sample:?}: {}", plan.describe());
                    assert!(algorithm.variants().contains(&plan.variant), "{:?}", plan.variant);
                    run_case(&device, &case, exact).unwrap();
                }
            }
        }
        assert_eq!(ctx.uncaptured_errors(), 0);
    }
}

/// Every layer runs on a vec4 kernel: both formats, every channel and filter residue mod 4 (per
/// group), depth multipliers 1–3 with any channel count (RGB too), 4–16 filters per group, 1x1
/// heads of odd filter counts. On lavapipe under the software rules and under the hardware-style
/// family (workgroup tiles), the planner never picks direct; the oracle checks each case.
#[test]
fn every_layer_runs_on_a_vec4_kernel_in_both_formats() {
    use wgpu_conv2d::gpu::kernels::direct;
    let Some(shared) = common::gpu::gpu() else { return };
    let hardware_style = wgpu_conv2d::GpuContext::new(&wgpu_conv2d::GpuOptions {
        kernel_family: wgpu_conv2d::KernelFamily::WorkgroupTiles,
        ..Default::default()
    })
    .unwrap();
    hardware_style.set_nan_fill_outputs(true);
    let mut rng = TestRng(0xC0DE);
    let mut cases = Vec::new();
    for cin_g in 1..=5 {
        for f_g in [1, 2, 3, 4, 5, 6, 7, 9, 13, 16] {
            cases.push((cin_g, f_g, 1 + (cin_g + f_g) % 2));
        }
    }
    let mut problems: Vec<Problem> = cases
        .into_iter()
        .map(|(cin_g, f_g, groups)| {
            let mut p = Problem::random(&mut rng, 3);
            (p.c, p.f, p.groups) = (cin_g * groups, f_g * groups, groups);
            p
        })
        .collect();
    for (c, mult) in [(3, 1), (3, 2), (5, 3), (8, 2), (6, 1), (4, 3)] {
        let mut p = Problem::random(&mut rng, 3);
        (p.c, p.f, p.groups) = (c, c * mult, c);
        problems.push(p);
    }
    for f in [1001, 10, 7] {
        let mut p = Problem::random(&mut rng, 1);
        (p.n, p.h, p.w, p.c, p.f, p.kh, p.kw, p.groups) = (1, 1 + f % 7, 1 + f % 7, 16, f, 1, 1, 1);
        (p.sh, p.sw, p.dh, p.dw) = (1, 1, 1, 1);
        problems.push(p);
    }
    let mut ran = 0;
    for (i, mut p) in problems.into_iter().enumerate() {
        if p.sh.max(p.sw) > 1 {
            (p.dh, p.dw) = (1, 1);
        }
        for channels_first in [false, true] {
            let exact = i % 2 == 0;
            let draw = |rng: &mut TestRng| if exact { rng.int(-3, 3) as f32 } else { rng.sym() };
            let cg = p.c / p.groups;
            let case = Case {
                p,
                channels_first,
                bias: i % 3 != 0,
                activation: if exact {
                    Activation::Linear
                } else {
                    [Activation::Relu, Activation::Softmax][i % 2]
                },
                x: (0..p.n * p.h * p.w * p.c).map(|_| draw(&mut rng)).collect(),
                k: (0..p.kh * p.kw * cg * p.f).map(|_| draw(&mut rng)).collect(),
                b: (0..p.f).map(|_| draw(&mut rng)).collect(),
            };
            for ctx in [&shared, &hardware_style] {
                let device = Device::Gpu((*ctx).clone());
                let Ok(Some(plan)) = case.layer().plan_on(&device, case.input().shape()) else {
                    continue; // a problem Keras rejects (valid padding larger than the input)
                };
                let software_rules = ctx.caps().subgroup8 || ctx.filter().family != wgpu_conv2d::KernelFamily::Auto;
                if software_rules {
                    assert_ne!(
                        plan.algorithm,
                        direct::ID,
                        "{p:?} cf={channels_first}: {}",
                        plan.describe()
                    );
                }
                if run_case(&device, &case, exact).is_some() {
                    ran += 1;
                }
            }
        }
    }
    assert!(ran > 150, "ran {ran}");
}

/// A resident chain whose tensors exceed the binding limit: each layer is split into row bands
/// as host calls are, the bands copied on the GPU, and the result equals the host calls'.
#[test]
fn resident_chain_splits_over_the_binding_limit() {
    let Some(tiny) = common::gpu::tiny_gpu() else { return };
    let mut rng = TestRng(0xBA2D);
    for channels_first in [false, true] {
        let layers: Vec<Conv2d> = [(8usize, 8usize, "relu"), (8, 12, "linear")]
            .iter()
            .map(|&(c, f, act)| {
                let format = if channels_first {
                    "channels_first"
                } else {
                    "channels_last"
                };
                let config = Conv2dConfig::builder(f as i64, 3)
                    .padding("same")
                    .activation(act)
                    .data_format(format)
                    .build()
                    .unwrap();
                let k = Tensor::new([3, 3, c, f], (0..9 * c * f).map(|_| rng.int(-2, 2) as f32).collect()).unwrap();
                let b = Tensor::new([f], (0..f).map(|_| rng.int(-2, 2) as f32).collect()).unwrap();
                Conv2d::with_weights(config, k, Some(b)).unwrap()
            })
            .collect();
        let shape = if channels_first { [1, 8, 60, 50] } else { [1, 60, 50, 8] };
        let x = Tensor::new(shape, (0..24_000).map(|_| rng.int(-3, 3) as f32).collect()).unwrap();
        let device = Device::Gpu(tiny.clone());
        let plan = layers[0].plan_on(&device, &shape).unwrap().unwrap();
        assert!(plan.chunks.len() > 1, "{}", plan.describe());
        let mut host = x.clone();
        for l in &layers {
            host = l.forward_on(&device, &host).unwrap();
        }
        let mut t = wgpu_conv2d::GpuTensor::upload(&tiny, &x).unwrap();
        for l in &layers {
            t = l.forward_gpu(&t).unwrap();
        }
        let resident = t.download().unwrap();
        assert_eq!(resident.shape(), host.shape());
        assert_eq!(resident.data(), host.data(), "channels_first={channels_first}");
        // And both equal the CPU reference: integer data is exact.
        let mut cpu = x.clone();
        for l in &layers {
            cpu = l.forward(&cpu).unwrap();
        }
        assert_eq!(resident.data(), cpu.data());
    }
    assert_eq!(tiny.uncaptured_errors(), 0);
}
