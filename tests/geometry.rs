//! Output sizes and `same` padding splits: KERAS_SPEC 2.3/2.4 tables and a brute-force sweep.

use wgpu_conv2d::conv::geometry::axis_geometry;
use wgpu_conv2d::conv::ConvParams;
use wgpu_conv2d::conv::{DataFormat, Padding};
use wgpu_conv2d::{Conv2dGeometry, Error};

#[test]
fn same_padding_split_table() {
    // (in, k, s, d) -> (out, before, after), KERAS_SPEC 2.4.
    for (inp, k, s, d, out, before, after) in [
        (5, 3, 2, 1, 3, 1, 1),
        (6, 3, 2, 1, 3, 0, 1),
        (4, 2, 1, 1, 4, 0, 1),
        (10, 3, 1, 2, 10, 2, 2),
    ] {
        let g = axis_geometry(inp, k, s, d, Padding::Same).unwrap().unwrap();
        assert_eq!(
            (g.output, g.pad_before, g.pad_after),
            (out, before, after),
            "in={inp} k={k} s={s} d={d}"
        );
    }
}

fn params(filters: u32, k: [u32; 2], s: [u32; 2], d: [u32; 2], padding: Padding, groups: u32) -> ConvParams {
    ConvParams {
        filters,
        kernel_size: k,
        strides: s,
        dilation_rate: d,
        padding,
        groups,
        data_format: DataFormat::ChannelsLast,
    }
}

#[test]
fn keras_worked_examples() {
    let g = Conv2dGeometry::new(&params(5, [2, 2], [1, 1], [1, 1], Padding::Valid, 1), [3, 5, 5, 4]).unwrap();
    assert_eq!(g.output_shape(), [3, 4, 4, 5]);
    let g = Conv2dGeometry::new(&params(6, [2, 2], [1, 1], [2, 2], Padding::Same, 2), [3, 4, 4, 4]).unwrap();
    assert_eq!(g.output_shape(), [3, 4, 4, 6]);
    let g = Conv2dGeometry::new(&params(6, [2, 2], [2, 1], [1, 1], Padding::Valid, 2), [3, 5, 5, 4]).unwrap();
    assert_eq!(g.output_shape(), [3, 2, 4, 6]);
    let mut p = params(6, [3, 3], [2, 2], [1, 1], Padding::Same, 1);
    p.data_format = DataFormat::ChannelsFirst;
    let g = Conv2dGeometry::new(&p, [2, 3, 7, 8]).unwrap();
    assert_eq!(g.output_shape(), [2, 6, 4, 4]);
}

#[test]
fn edge_geometries() {
    // Even kernel with `same`: the extra pixel goes bottom/right.
    let g = Conv2dGeometry::new(&params(1, [4, 2], [1, 1], [1, 1], Padding::Same, 1), [1, 6, 6, 1]).unwrap();
    assert_eq!(g.pad, [1, 2, 0, 1]);
    // Stride larger than the kernel.
    let g = Conv2dGeometry::new(&params(1, [2, 2], [3, 3], [1, 1], Padding::Valid, 1), [1, 8, 9, 1]).unwrap();
    assert_eq!((g.out_h, g.out_w), (3, 3));
    let g = Conv2dGeometry::new(&params(1, [1, 1], [3, 3], [1, 1], Padding::Same, 1), [1, 8, 9, 1]).unwrap();
    assert_eq!((g.out_h, g.out_w, g.pad), (3, 3, [0, 0, 0, 0]));
    // `same` padding larger than the input: 1x1 input, 5x5 kernel.
    let g = Conv2dGeometry::new(&params(1, [5, 5], [1, 1], [1, 1], Padding::Same, 1), [1, 1, 1, 1]).unwrap();
    assert_eq!((g.out_h, g.out_w, g.pad), (1, 1, [2, 2, 2, 2]));
    // Kernel equal to the input: one output.
    let g = Conv2dGeometry::new(&params(1, [4, 5], [1, 1], [1, 1], Padding::Valid, 1), [1, 4, 5, 1]).unwrap();
    assert_eq!((g.out_h, g.out_w), (1, 1));
    // Effective kernel one larger than the input: Keras's zero-size error.
    let err = Conv2dGeometry::new(&params(1, [3, 3], [1, 1], [2, 2], Padding::Valid, 1), [1, 4, 9, 1]).unwrap_err();
    assert!(matches!(err, Error::OutputSizeNonPositive { .. }));
    // Empty batch and empty spatial input with `same` are fine.
    let g = Conv2dGeometry::new(&params(2, [3, 3], [1, 1], [1, 1], Padding::Same, 1), [0, 4, 4, 1]).unwrap();
    assert_eq!(g.output_shape(), [0, 4, 4, 2]);
    let g = Conv2dGeometry::new(&params(2, [3, 3], [2, 2], [1, 1], Padding::Same, 1), [1, 0, 4, 1]).unwrap();
    assert_eq!(g.output_shape(), [1, 0, 2, 2]);
}

#[test]
fn overflowing_sizes_are_errors() {
    let huge = usize::MAX / 2;
    let err = Conv2dGeometry::new(
        &params(1, [1, 1], [1, 1], [1, 1], Padding::Valid, 1),
        [huge, huge, 1, 1],
    )
    .unwrap_err();
    assert!(matches!(err, Error::SizeOverflow(_)));
    // A huge dilated kernel is computed exactly in 64 bits, never wrapped.
    let g = axis_geometry(10, u32::MAX, 1, u32::MAX, Padding::Same)
        .unwrap()
        .unwrap();
    let eff = (u32::MAX as u64 - 1) * u32::MAX as u64 + 1;
    assert_eq!((g.pad_before + g.pad_after) as u64, 9 + eff - 10);
    assert!(axis_geometry(10, u32::MAX, 1, u32::MAX, Padding::Valid)
        .unwrap()
        .is_none());
}

#[test]
fn brute_force_sweep_agrees_with_keras_formulas() {
    // Keras: valid out = floor((in − d(k−1) − 1)/s) + 1 (must be > 0); same out = floor((in − 1)/s) + 1.
    // Padding checked by simulation: every output's window must start at −before and the last
    // window must end inside in + after, with no slack larger than a stride.
    for inp in 0..14i64 {
        for k in 1..6i64 {
            for s in 1..4i64 {
                for d in 1..4i64 {
                    let valid = axis_geometry(inp as usize, k as u32, s as u32, d as u32, Padding::Valid).unwrap();
                    let num = inp - d * (k - 1) - 1;
                    let keras_valid = num.div_euclid(s) + 1;
                    match valid {
                        Some(g) => assert_eq!(g.output as i64, keras_valid),
                        None => assert!(keras_valid <= 0),
                    }
                    let same = axis_geometry(inp as usize, k as u32, s as u32, d as u32, Padding::Same)
                        .unwrap()
                        .unwrap();
                    assert_eq!(same.output as i64, (inp - 1).div_euclid(s) + 1);
                    if same.output > 0 {
                        let last_end = (same.output as i64 - 1) * s + d * (k - 1) + 1;
                        assert_eq!(last_end.max(inp), inp + (same.pad_before + same.pad_after) as i64);
                        assert!(same.pad_after >= same.pad_before && same.pad_after - same.pad_before <= 1);
                    }
                }
            }
        }
    }
}
