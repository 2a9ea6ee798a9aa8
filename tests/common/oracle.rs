//! An independent Keras-semantics Conv2D oracle in f64: it shares no code with the crate.
//! It materialises the zero-padded input and the dilated kernel (Keras's `np_conv2d` approach),
//! unlike the crate's reference loop, which skips padding taps.

/// Problem description in plain numbers (NHWC/HWIO; callers transpose for channels_first).
#[derive(Clone, Copy, Debug)]
pub struct Problem {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub f: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
    pub groups: usize,
    pub same: bool,
}

/// Output size and leading pad for one axis (TF rule, written out independently).
fn axis(size: usize, k: usize, s: usize, d: usize, same: bool) -> Option<(usize, usize, usize)> {
    let ek = (k - 1) * d + 1;
    if same {
        let out = size.div_ceil(s);
        let total = ((out.max(1) - 1) * s + ek).saturating_sub(size);
        Some((out, total / 2, total - total / 2))
    } else if size >= ek {
        Some(((size - ek) / s + 1, 0, 0))
    } else {
        None
    }
}

/// Output (NHWC) and its shape, or None when `valid` leaves no output.
pub fn conv_nhwc(p: &Problem, x: &[f32], k: &[f32], bias: Option<&[f32]>) -> Option<(Vec<f64>, [usize; 4])> {
    let (oh, pt, pb) = axis(p.h, p.kh, p.sh, p.dh, p.same)?;
    let (ow, pl, pr) = axis(p.w, p.kw, p.sw, p.dw, p.same)?;
    let (hp, wp) = (p.h + pt + pb, p.w + pl + pr);
    let mut padded = vec![0.0f64; p.n * hp * wp * p.c];
    for n in 0..p.n {
        for y in 0..p.h {
            for xx in 0..p.w {
                for c in 0..p.c {
                    padded[((n * hp + y + pt) * wp + xx + pl) * p.c + c] =
                        x[((n * p.h + y) * p.w + xx) * p.c + c] as f64;
                }
            }
        }
    }
    let cg = p.c / p.groups;
    let fg = p.f / p.groups;
    // Dilated kernel: zeros between taps.
    let (ekh, ekw) = ((p.kh - 1) * p.dh + 1, (p.kw - 1) * p.dw + 1);
    let mut dk = vec![0.0f64; ekh * ekw * cg * p.f];
    for i in 0..p.kh {
        for j in 0..p.kw {
            for c in 0..cg {
                for f in 0..p.f {
                    dk[((i * p.dh * ekw + j * p.dw) * cg + c) * p.f + f] =
                        k[((i * p.kw + j) * cg + c) * p.f + f] as f64;
                }
            }
        }
    }
    let mut out = vec![0.0f64; p.n * oh * ow * p.f];
    for g in 0..p.groups {
        for n in 0..p.n {
            for y in 0..oh {
                for xx in 0..ow {
                    for fo in 0..fg {
                        let f = g * fg + fo;
                        let mut acc = 0.0;
                        for i in 0..ekh {
                            for j in 0..ekw {
                                let row = ((n * hp + y * p.sh + i) * wp + xx * p.sw + j) * p.c + g * cg;
                                for c in 0..cg {
                                    acc += padded[row + c] * dk[((i * ekw + j) * cg + c) * p.f + f];
                                }
                            }
                        }
                        out[((n * oh + y) * ow + xx) * p.f + f] = acc + bias.map_or(0.0, |b| b[f] as f64);
                    }
                }
            }
        }
    }
    Some((out, [p.n, oh, ow, p.f]))
}

/// NHWC → NCHW.
pub fn to_nchw<T: Copy + Default>(x: &[T], [n, h, w, c]: [usize; 4]) -> Vec<T> {
    let mut out = vec![T::default(); x.len()];
    for a in 0..n {
        for y in 0..h {
            for xx in 0..w {
                for ch in 0..c {
                    out[((a * c + ch) * h + y) * w + xx] = x[((a * h + y) * w + xx) * c + ch];
                }
            }
        }
    }
    out
}

impl Problem {
    /// A generated problem in the TESTING.md P1 space (N 0..3, H,W `min_hw`..12, groups 1..4,
    /// kernels 1..5, strides and dilations 1..3), with strides and dilation mixed only rarely.
    pub fn random(rng: &mut super::TestRng, min_hw: i64) -> Self {
        let groups = rng.int(1, 4) as usize;
        let mut p = Problem {
            n: rng.int(0, 3) as usize,
            h: rng.int(min_hw, 12) as usize,
            w: rng.int(min_hw, 12) as usize,
            c: groups * rng.int(1, 4) as usize,
            f: groups * rng.int(1, 4) as usize,
            kh: rng.int(1, 5) as usize,
            kw: rng.int(1, 5) as usize,
            sh: rng.int(1, 3) as usize,
            sw: rng.int(1, 3) as usize,
            dh: rng.int(1, 3) as usize,
            dw: rng.int(1, 3) as usize,
            groups,
            same: rng.int(0, 1) == 1,
        };
        // Keep one problem in five with both strides and dilation (Keras must reject it).
        if rng.int(0, 4) > 0 && p.sh.max(p.sw) > 1 {
            p.dh = 1;
            p.dw = 1;
        }
        p
    }

    /// The Keras config of this problem.
    pub fn config(
        &self,
        channels_first: bool,
        bias: bool,
        activation: &str,
    ) -> wgpu_conv2d::Result<wgpu_conv2d::Conv2dConfig> {
        wgpu_conv2d::Conv2dConfig::builder(self.f as i64, (self.kh as i64, self.kw as i64))
            .strides((self.sh as i64, self.sw as i64))
            .dilation_rate((self.dh as i64, self.dw as i64))
            .groups(self.groups as i64)
            .padding(if self.same { "same" } else { "valid" })
            .data_format(if channels_first {
                "channels_first"
            } else {
                "channels_last"
            })
            .use_bias(bias)
            .activation(activation)
            .build()
    }
}
