//! Metamorphic relations (TESTING.md B1/B5 P3) on generated problems, on the GPU when there is one
//! (the CPU path otherwise). Integer data keeps every sum exact, so each relation holds bitwise.

mod common;

use common::oracle::{to_nchw, Problem};
use common::TestRng;
use wgpu_conv2d::{Conv2d, Device, Tensor};

fn device() -> Device {
    common::gpu::gpu().map_or(Device::Cpu, Device::Gpu)
}

fn ints(rng: &mut TestRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.int(-3, 3) as f32).collect()
}

fn layer(p: &Problem, k: &[f32], channels_first: bool) -> Conv2d {
    let config = p.config(channels_first, false, "linear").unwrap();
    Conv2d::with_weights(
        config,
        Tensor::new([p.kh, p.kw, p.c / p.groups, p.f], k.to_vec()).unwrap(),
        None,
    )
    .unwrap()
}

/// Generated problems that Keras accepts, with at least one output.
fn problems(seed: u64, count: usize) -> Vec<(Problem, Vec<f32>, Vec<f32>)> {
    let mut rng = TestRng(seed);
    let mut out = Vec::new();
    while out.len() < count {
        let mut p = Problem::random(&mut rng, 1);
        p.n = p.n.max(1);
        if p.sh.max(p.sw) > 1 && p.dh.max(p.dw) > 1 {
            continue;
        }
        let x = ints(&mut rng, p.n * p.h * p.w * p.c);
        let k = ints(&mut rng, p.kh * p.kw * p.c / p.groups * p.f);
        if layer(&p, &k, false).geometry(&[p.n, p.h, p.w, p.c]).is_ok() {
            out.push((p, x, k));
        }
    }
    out
}

#[test]
fn same_equals_explicit_padding_then_valid() {
    let device = device();
    for (p, x, k) in problems(0x5A3E, 24).into_iter().filter(|(p, ..)| p.same) {
        let same = layer(&p, &k, false);
        let g = same.geometry(&[p.n, p.h, p.w, p.c]).unwrap();
        let [top, bottom, left, right] = g.pad;
        let (hp, wp) = (p.h + top + bottom, p.w + left + right);
        let mut padded = vec![0.0f32; p.n * hp * wp * p.c];
        for n in 0..p.n {
            for y in 0..p.h {
                let src = ((n * p.h + y) * p.w) * p.c;
                let dst = ((n * hp + y + top) * wp + left) * p.c;
                padded[dst..dst + p.w * p.c].copy_from_slice(&x[src..src + p.w * p.c]);
            }
        }
        let valid = layer(&Problem { same: false, ..p }, &k, false);
        let a = same
            .forward_on(&device, &Tensor::new([p.n, p.h, p.w, p.c], x.clone()).unwrap())
            .unwrap();
        let b = valid
            .forward_on(&device, &Tensor::new([p.n, hp, wp, p.c], padded).unwrap())
            .unwrap();
        assert_eq!(a, b, "{p:?}");
    }
}

#[test]
fn dilation_equals_a_zero_inserted_kernel() {
    let device = device();
    for (p, x, k) in problems(0xD11, 24).into_iter().filter(|(p, ..)| p.dh.max(p.dw) > 1) {
        let (kh, kw) = ((p.kh - 1) * p.dh + 1, (p.kw - 1) * p.dw + 1);
        let cg = p.c / p.groups;
        let mut dense = vec![0.0f32; kh * kw * cg * p.f];
        for i in 0..p.kh {
            for j in 0..p.kw {
                let (src, dst) = (((i * p.kw + j) * cg) * p.f, ((i * p.dh * kw + j * p.dw) * cg) * p.f);
                dense[dst..dst + cg * p.f].copy_from_slice(&k[src..src + cg * p.f]);
            }
        }
        let plain = Problem {
            kh,
            kw,
            dh: 1,
            dw: 1,
            ..p
        };
        let input = Tensor::new([p.n, p.h, p.w, p.c], x).unwrap();
        let a = layer(&p, &k, false).forward_on(&device, &input).unwrap();
        let b = layer(&plain, &dense, false).forward_on(&device, &input).unwrap();
        assert_eq!(a, b, "{p:?}");
    }
}

#[test]
fn batches_channels_first_scaling_and_translation() {
    let device = device();
    for (p, x, k) in problems(0xBA7C, 24) {
        let l = layer(&p, &k, false);
        let shape = [p.n, p.h, p.w, p.c];
        let whole = l.forward_on(&device, &Tensor::new(shape, x.clone()).unwrap()).unwrap();
        // Batch independence: each image alone gives its slice of the batched output.
        let per_in = p.h * p.w * p.c;
        let per_out = whole.len() / p.n;
        for n in 0..p.n {
            let one = l
                .forward_on(
                    &device,
                    &Tensor::new([1, p.h, p.w, p.c], x[n * per_in..(n + 1) * per_in].to_vec()).unwrap(),
                )
                .unwrap();
            assert_eq!(
                one.data(),
                &whole.data()[n * per_out..(n + 1) * per_out],
                "{p:?} image {n}"
            );
        }
        // channels_first is the transpose of channels_last.
        let cf = layer(&p, &k, true)
            .forward_on(&device, &Tensor::new([p.n, p.c, p.h, p.w], to_nchw(&x, shape)).unwrap())
            .unwrap();
        let s = whole.shape();
        assert_eq!(cf.data(), &to_nchw(whole.data(), [s[0], s[1], s[2], s[3]])[..], "{p:?}");
        // Scaling by a power of two commutes (exact in binary floating point, no bias).
        let scaled: Vec<f32> = x.iter().map(|v| v * 8.0).collect();
        let y8 = l.forward_on(&device, &Tensor::new(shape, scaled).unwrap()).unwrap();
        assert!(y8.data().iter().zip(whole.data()).all(|(a, b)| *a == b * 8.0), "{p:?}");
        // Translation equivariance (stride 1, valid): shifting the input one column right
        // shifts the output one column right.
        if !p.same && p.sw == 1 {
            let mut shifted = vec![0.0f32; p.n * p.h * (p.w + 1) * p.c];
            for r in 0..p.n * p.h {
                let (src, dst) = (r * p.w * p.c, (r * (p.w + 1) + 1) * p.c);
                shifted[dst..dst + p.w * p.c].copy_from_slice(&x[src..src + p.w * p.c]);
            }
            let ys = l
                .forward_on(&device, &Tensor::new([p.n, p.h, p.w + 1, p.c], shifted).unwrap())
                .unwrap();
            let (oh, ow, f) = (s[1], s[2], s[3]);
            for r in 0..p.n * oh {
                let a = &whole.data()[r * ow * f..(r + 1) * ow * f];
                let b = &ys.data()[(r * (ow + 1) + 1) * f..(r * (ow + 1) + 1 + ow) * f];
                assert_eq!(a, b, "{p:?} row {r}");
            }
        }
    }
}
