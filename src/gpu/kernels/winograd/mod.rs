//! Winograd F(2x2,3x3) for 3x3 stride-1 layers (any dilation, any groups): 2.25x fewer
//! multiplications than the implicit GEMM. The filter transform `U = G g Gᵀ` runs once per
//! device on the host (f64, stored as a 4x4 "kernel" in HWIO order, see [`filter_transform`]);
//! the input transform, the 16 products and the output transform are one fused kernel
//! (`kernel.rs`), shaped like the wide subgroup GEMM for 8-lane subgroups. U stays f32 in every
//! element type (`WeightPrep::kernel_element`): rounded to f16 it put the output 2 ulp from the
//! oracle, where every other algorithm stays within 1.

use crate::conv::{Chunk, Conv2dGeometry};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::columns;
use crate::gpu::kernels::igemm_subgroup::{gemm_uniform, vec4_layout};
use crate::gpu::kernels::params::IgemmUniform;
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Family, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

pub mod kernel;

/// The registry id.
pub const ID: AlgorithmId = AlgorithmId("winograd_f2");

/// Output pixels per call from which the rules prefer Winograd to the wide GEMM, with at least
/// [`RULES_MIN_FILTERS`] filters per group (two filter vec4 columns a lane). Measured on
/// llvmpipe (3 alternating rounds, best median, GEMM / Winograd): ResNet50's 56x56x64 -> 64
/// 1.56x, InceptionV3's 147x147x32 -> 64 1.17x and 71x71 (from 80) -> 192 1.18x; below it the
/// GEMM won or tied: 28x28x128 -> 128 0.98x, 14x14x256 -> 256 0.86x, 35x35x96 -> 96 0.88x,
/// 8x8x448 -> 384 0.89x, and with 32 filters (one column) 0.72-1.03x at any size.
pub const RULES_MIN_PIXELS: usize = 2800;

/// See [`RULES_MIN_PIXELS`].
pub const RULES_MIN_FILTERS: usize = 64;

/// The algorithm.
pub struct WinogradF2;

/// The registry's instance.
pub static WINOGRAD_F2: WinogradF2 = WinogradF2;

/// `G`, the filter transform of F(2,3).
const G: [[f64; 3]; 4] = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];

/// The HWIO 3x3 `kernel` of `[3, 3, cin, f]` transformed to `U = G g Gᵀ` per (channel, filter),
/// laid out as a `[4, 4, cin, f]` HWIO kernel (position `(r, c)` where the tap was), in f64 and
/// rounded once.
pub fn filter_transform(kernel: &[f32], [kh, kw, cin, f]: [usize; 4]) -> Vec<f32> {
    debug_assert_eq!((kh, kw), (3, 3));
    let mut out = vec![0.0f32; 16 * cin * f];
    for c in 0..cin {
        for o in 0..f {
            let g = |y: usize, x: usize| kernel[((y * 3 + x) * cin + c) * f + o] as f64;
            // t = G g (4x3), then u = t Gᵀ (4x4).
            let mut t = [[0.0f64; 3]; 4];
            for (r, row) in t.iter_mut().enumerate() {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = (0..3).map(|y| G[r][y] * g(y, x)).sum();
                }
            }
            for r in 0..4 {
                for col in 0..4 {
                    let u: f64 = (0..3).map(|x| t[r][x] * G[col][x]).sum();
                    out[((r * 4 + col) * cin + c) * f + o] = u as f32;
                }
            }
        }
    }
    out
}

/// Column tiles (8·4t filters each) per group.
fn col_tiles(g: &Conv2dGeometry, t: u32) -> u64 {
    columns::column_tiles(g.filters_per_group() / 4, t)
}

/// Output tiles of a chunk: per image, the 2x2 tiles of each residue class of the dilation.
fn tiles(g: &Conv2dGeometry, chunk: &Chunk) -> Option<u64> {
    let along = |len: usize, d: usize| (d * len.div_ceil(d).div_ceil(2)) as u64;
    along(chunk.out_rows, g.dilation[0])
        .checked_mul(along(g.out_w, g.dilation[1]))?
        .checked_mul(chunk.batch_len as u64)
}

impl Program for WinogradF2 {
    fn name(&self) -> &'static str {
        ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["lane_tiles", "cols", "nchw"]
    }

    fn variants(&self) -> Vec<Variant> {
        let mut out = Vec::new();
        for nchw in 0..2 {
            out.extend(
                [[1, 1], [1, 2], [2, 1], [2, 2]]
                    .iter()
                    .map(|&[j, t]| Variant::of(&[j, t, nchw])),
            );
        }
        out
    }

    fn body(&self, variant: &Variant) -> String {
        kernel::body(variant.get(0), variant.get(1), variant.get(2) != 0, false)
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        IgemmUniform::layout()
    }
}

impl crate::gpu::kernels::texture_weights::TextureBody for WinogradF2 {
    fn texture_body(&self, variant: &Variant) -> String {
        kernel::body(variant.get(0), variant.get(1), variant.get(2) != 0, true)
    }

    /// U's 16 positions per channel of a group.
    fn texture_rows(&self, g: &Conv2dGeometry) -> usize {
        16 * g.cin_per_group()
    }
}

impl Algorithm for WinogradF2 {
    fn family(&self) -> Family {
        Family::SubgroupBroadcast
    }

    fn winograd_weights(&self) -> bool {
        true
    }

    fn writes_channels_first(&self) -> bool {
        true
    }

    fn preferred_by_rules(&self, g: &Conv2dGeometry) -> bool {
        g.batch * g.out_h * g.out_w >= RULES_MIN_PIXELS && g.filters_per_group() >= RULES_MIN_FILTERS
    }

    fn supports(&self, g: &Conv2dGeometry, caps: &DeviceCaps, element: ElementType) -> bool {
        // U: 16 positions × channels × filters, f32, in one binding.
        let u_bytes = 64 * g.cin_per_group() as u64 * g.filters as u64;
        caps.subgroup8
            && caps.supports_element(element)
            && u_bytes <= caps.max_tensor_bytes()
            && vec4_layout(g)
            && g.kernel == [3, 3]
            && g.strides == [1, 1]
            && g.cin_per_group() > 1
    }

    fn variant_for(&self, g: &Conv2dGeometry, epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        // Measured on llvmpipe (same run, min ms; r50_3x3 / r50_3x3_deep / batch8): 1 tile x 32 f
        // 7.1 / 9.5 / 19.6, 1 x 64 f 7.0 / 8.5 / 24.7, 2 x 32 f 6.9 / 9.7 / 21.2, 2 x 64 f
        // 4.9 / 8.1 / 11.9: two tiles per lane amortise the weight loads over 16 tiles. Small
        // layers keep one, so their workgroups stay many.
        let t = columns::lane_columns(g.filters_per_group() / 4, 2);
        let per_image = g.out_h.div_ceil(2) * g.out_w.div_ceil(2);
        Variant::of(&[
            if per_image >= 128 { 2 } else { 1 },
            t,
            u32::from(epilogue.channels_first_output),
        ])
    }

    fn workgroups(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk) -> Option<u64> {
        tiles(g, chunk)?
            .div_ceil(8 * variant.get(0) as u64)
            .checked_mul(g.groups as u64)?
            .checked_mul(col_tiles(g, variant.get(1)))
    }

    fn uniform(&self, g: &Conv2dGeometry, variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        let cols = col_tiles(g, variant.get(1));
        gemm_uniform(g, chunk, epilogue, cols, self.workgroups(g, variant, chunk))
    }

    fn describe(&self, variant: &Variant) -> String {
        format!(
            "Winograd F(2x2,3x3) (subgroup broadcast), {} tiles x {} f",
            8 * variant.get(0),
            32 * variant.get(1)
        )
    }

    fn samples(&self) -> Vec<Sample> {
        vec![
            // One column per lane, odd output sizes (partial tiles), valid padding.
            Sample::new([1, 9, 11, 8], 12, 3),
            // Two columns, same padding, partial column tile, two images.
            Sample::new([2, 8, 7, 12], 44, 3).same(),
            // Dilation 2 and 3: tiles per residue class.
            Sample::new([1, 13, 12, 8], 8, 3).same().dilation(2),
            Sample::new([1, 14, 17, 4], 36, 3).dilation(3),
            // Two tiles per lane (128 tiles per image or more), one and two columns.
            Sample::new([1, 24, 24, 8], 12, 3).same(),
            Sample::new([1, 23, 24, 8], 40, 3).same(),
            // Groups, and a packed (channels_first, odd channels) layer.
            Sample::new([1, 10, 9, 16], 24, 3).same().groups(2),
            Sample::new([1, 5, 9, 10], 6, 3).same().channels_first(),
            // channels_first written as it lies (filters in whole vec4s), every tile and column
            // count; one dilated, two images.
            Sample::new([1, 8, 9, 11], 12, 3).same().channels_first(),
            Sample::new([2, 12, 8, 7], 44, 3).same().channels_first(),
            Sample::new([1, 8, 24, 24], 12, 3).same().dilation(2).channels_first(),
            Sample::new([1, 8, 23, 24], 40, 3).same().channels_first(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Winograd on one 4x4 patch and one filter equals the direct 2x2 correlation.
    #[test]
    fn transforms_compose_to_the_direct_convolution() {
        let g: Vec<f32> = (0..9).map(|i| (i as f32 * 0.37).sin()).collect();
        let u = filter_transform(&g, [3, 3, 1, 1]);
        let d: Vec<f64> = (0..16).map(|i| (i as f64 * 0.61).cos()).collect();
        let bt = [
            [1.0, 0.0, -1.0, 0.0],
            [0.0, 1.0, 1.0, 0.0],
            [0.0, -1.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, -1.0],
        ];
        let at = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];
        let mut v = [[0.0f64; 4]; 4];
        for (r, row) in v.iter_mut().enumerate() {
            for (c, x) in row.iter_mut().enumerate() {
                *x = (0..4)
                    .flat_map(|i| (0..4).map(move |j| (i, j)))
                    .map(|(i, j)| bt[r][i] * d[i * 4 + j] * bt[c][j])
                    .sum();
            }
        }
        for (a, ya) in at.iter().enumerate() {
            for (b, yb) in at.iter().enumerate() {
                let y: f64 = (0..4)
                    .flat_map(|i| (0..4).map(move |j| (i, j)))
                    .map(|(i, j)| ya[i] * u[i * 4 + j] as f64 * v[i][j] * yb[j])
                    .sum();
                let direct: f64 = (0..3)
                    .flat_map(|ky| (0..3).map(move |kx| (ky, kx)))
                    .map(|(ky, kx)| g[ky * 3 + kx] as f64 * d[(a + ky) * 4 + b + kx])
                    .sum();
                assert!((y - direct).abs() < 1e-6, "({a},{b}): {y} vs {direct}");
            }
        }
    }
}

/// The float32 error of Winograd F(2x2,3x3) and F(4x4,3x3) against the f64 direct convolution,
/// every transform and product in f32 as a GPU runs them: the measurement behind building F(2,3)
/// only. On random data over 64-1024 channels F(2,3) stays near f32's own summation error
/// (1.2e-6 at 1024) while F(4,3) is 12-21x worse (1.9e-5 at 1024, past the 1e-5 tolerance; its
/// transforms carry 1/6, 1/24 and 8s).
#[cfg(test)]
mod accuracy {
    type Mat = Vec<Vec<f64>>;

    fn mat(rows: &[&[f64]]) -> Mat {
        rows.iter().map(|r| r.to_vec()).collect()
    }

    /// `l · x · rᵀ` in f32 arithmetic.
    fn sandwich(l: &Mat, x: &[Vec<f32>], r: &Mat) -> Vec<Vec<f32>> {
        let t: Vec<Vec<f32>> = l
            .iter()
            .map(|lr| {
                (0..x[0].len())
                    .map(|j| lr.iter().zip(x).fold(0.0f32, |s, (a, row)| s + *a as f32 * row[j]))
                    .collect()
            })
            .collect();
        t.iter()
            .map(|tr| {
                r.iter()
                    .map(|rr| rr.iter().zip(tr).fold(0.0f32, |s, (a, v)| s + *a as f32 * v))
                    .collect()
            })
            .collect()
    }

    /// Largest |winograd − direct| / max |direct| over `tiles` output tiles of `m`×`m`.
    fn error(m: usize, (bt, g, at): (&Mat, &Mat, &Mat), channels: usize, tiles: usize) -> f64 {
        let n = m + 2;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let (mut worst, mut scale) = (0.0f64, 0.0f64);
        for _ in 0..tiles {
            let mut acc = vec![vec![0.0f32; n]; n];
            let mut direct = vec![vec![0.0f64; m]; m];
            for _ in 0..channels {
                let d: Vec<Vec<f32>> = (0..n).map(|_| (0..n).map(|_| rnd() as f32).collect()).collect();
                let k: Vec<Vec<f32>> = (0..3).map(|_| (0..3).map(|_| (rnd() * 0.2) as f32).collect()).collect();
                let u = sandwich(g, &k, g);
                let v = sandwich(bt, &d, bt);
                for i in 0..n {
                    for j in 0..n {
                        acc[i][j] += u[i][j] * v[i][j];
                    }
                }
                for (y, row) in direct.iter_mut().enumerate() {
                    for (x, out) in row.iter_mut().enumerate() {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                *out += k[ky][kx] as f64 * d[y + ky][x + kx] as f64;
                            }
                        }
                    }
                }
            }
            let y = sandwich(at, &acc, at);
            for a in 0..m {
                for b in 0..m {
                    worst = worst.max((y[a][b] as f64 - direct[a][b]).abs());
                    scale = scale.max(direct[a][b].abs());
                }
            }
        }
        worst / scale
    }

    #[test]
    fn f2_stays_within_the_float32_tolerance_and_f4_leaves_it() {
        let f2 = (
            mat(&[
                &[1., 0., -1., 0.],
                &[0., 1., 1., 0.],
                &[0., -1., 1., 0.],
                &[0., 1., 0., -1.],
            ]),
            mat(&[&[1., 0., 0.], &[0.5, 0.5, 0.5], &[0.5, -0.5, 0.5], &[0., 0., 1.]]),
            mat(&[&[1., 1., 1., 0.], &[0., 1., -1., -1.]]),
        );
        let (s, t) = (1.0 / 6.0, 1.0 / 24.0);
        let f4 = (
            mat(&[
                &[4., 0., -5., 0., 1., 0.],
                &[0., -4., -4., 1., 1., 0.],
                &[0., 4., -4., -1., 1., 0.],
                &[0., -2., -1., 2., 1., 0.],
                &[0., 2., -1., -2., 1., 0.],
                &[0., 4., 0., -5., 0., 1.],
            ]),
            mat(&[
                &[0.25, 0., 0.],
                &[-s, -s, -s],
                &[-s, s, -s],
                &[t, 2. * t, 4. * t],
                &[t, -2. * t, 4. * t],
                &[0., 0., 1.],
            ]),
            mat(&[
                &[1., 1., 1., 1., 1., 0.],
                &[0., 1., -1., 2., -2., 0.],
                &[0., 1., 1., 4., 4., 0.],
                &[0., 1., -1., 8., -8., 1.],
            ]),
        );
        for channels in [64, 256, 1024] {
            let e2 = error(2, (&f2.0, &f2.1, &f2.2), channels, 16);
            let e4 = error(4, (&f4.0, &f4.1, &f4.2), channels, 16);
            assert!(e2 < 1e-5, "F(2,3) {e2:e} at {channels} channels");
            assert!(e4 > 5.0 * e2, "F(4,3) {e4:e} vs F(2,3) {e2:e}");
            if channels == 1024 {
                assert!(e4 > 1e-5, "F(4,3) {e4:e} within the tolerance at {channels} channels");
            }
        }
    }
}
