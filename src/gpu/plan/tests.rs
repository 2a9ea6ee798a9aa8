//! The planner's unit tests: coverage and limits of the split, folding, refusals, and the
//! registry's choices on software and hardware capabilities.

use super::*;
use crate::conv::{ConvParams, Padding};
use crate::gpu::device::KernelFamily;
use crate::gpu::kernels::{depthwise, direct, grouped, igemm_subgroup, igemm_tiled, texture_weights, winograd};
use crate::keras::activation::Activation;

fn geometry(shape: [usize; 4], k: u32, s: u32, d: u32, filters: u32, groups: u32, padding: Padding) -> Conv2dGeometry {
    let params = ConvParams {
        filters,
        kernel_size: [k, k],
        strides: [s, s],
        dilation_rate: [d, d],
        padding,
        groups,
        data_format: DataFormat::ChannelsLast,
    };
    Conv2dGeometry::new(&params, shape).unwrap()
}

/// A software adapter with 8-lane subgroups (lavapipe's capabilities, roomy limits).
fn software_caps() -> DeviceCaps {
    DeviceCaps {
        subgroup8: true,
        software: true,
        // lavapipe's 2-D texture size.
        max_texture_2d: 16384,
        ..DeviceCaps::with_limits(128 << 20, 256 << 20, 65535)
    }
}

fn linear() -> Epilogue {
    Epilogue::new(Activation::Linear, true)
}

/// Every output element is covered exactly once, and every chunk fits the limits.
fn check(g: &Conv2dGeometry, caps: &DeviceCaps) -> Plan {
    let plan = plan(g, caps, &AlgorithmFilter::default(), ElementType::F32, linear()).unwrap();
    let mut covered = vec![0u8; g.batch * g.out_h];
    for cp in &plan.chunks {
        let c = cp.chunk;
        for n in c.batch_start..c.batch_start + c.batch_len {
            for r in c.out_row_start..c.out_row_start + c.out_rows {
                covered[n * g.out_h + r] += 1;
            }
        }
        let in_bytes = (c.batch_len * c.in_rows * g.in_w * g.in_c * 4) as u64;
        let out_bytes = (cp.conv.output_len * 4) as u64;
        assert!(
            in_bytes <= caps.max_tensor_bytes() && out_bytes <= caps.max_tensor_bytes(),
            "{c:?}"
        );
        let d = cp.conv.dispatch;
        assert!(d.x <= caps.max_workgroups_per_dim && d.y <= caps.max_workgroups_per_dim);
        // The band holds every input row its outputs read.
        let (start, len) = crate::conv::chunk::input_rows(g, c.out_row_start, c.out_rows);
        assert_eq!((c.in_row_start, c.in_rows), (start, len));
    }
    assert!(covered.iter().all(|&c| c == 1), "coverage {covered:?}");
    plan
}

#[test]
fn splits_cover_every_output_once_within_limits() {
    let tiny = DeviceCaps::with_limits(64 * 1024, 256 * 1024, 8);
    let roomy = DeviceCaps::with_limits(128 << 20, 256 << 20, 65535);
    for (shape, k, s, d, f, groups, padding) in [
        ([3, 40, 37, 6], 3, 1, 1, 8, 2, Padding::Same),
        ([1, 90, 61, 4], 5, 2, 1, 6, 1, Padding::Same),
        ([2, 70, 50, 3], 3, 1, 3, 3, 3, Padding::Valid),
        ([64, 30, 30, 2], 3, 1, 1, 4, 1, Padding::Valid),
    ] {
        let g = geometry(shape, k, s, d, f, groups, padding);
        assert!(check(&g, &tiny).chunks.len() > 1);
        assert_eq!(check(&g, &roomy).chunks.len(), 1);
    }
    let big = geometry([1, 2048, 2048, 1], 3, 1, 1, 16, 1, Padding::Same);
    assert!(check(&big, &roomy).chunks.len() >= 2);
}

#[test]
fn folds_and_refusals() {
    assert_eq!(fold_dispatch(70_000, 65535), Some(Dispatch { x: 65535, y: 2 }));
    assert_eq!(fold_dispatch(65, 8), None);
    assert_eq!(fold_dispatch(0, 8), Some(Dispatch { x: 0, y: 0 }));
    let g = geometry([1, 8, 8, 512], 3, 1, 1, 512, 1, Padding::Same);
    let tiny = DeviceCaps::with_limits(64 * 1024, 64 * 1024, 8);
    let err = plan(&g, &tiny, &AlgorithmFilter::default(), ElementType::F32, linear()).unwrap_err();
    assert!(
        err.to_string().contains("kernel") && err.to_string().contains("65536"),
        "{err}"
    );
}

/// The registry's choices on a software adapter with 8-lane subgroups and on a hardware GPU:
/// every layer gets a vec4 kernel (packed when it must be), and the direct kernel runs only what
/// nothing else can (here: dense layers on an adapter with neither subgroups nor hardware tiles).
#[test]
fn registry_order_and_packing_choose_a_tiled_kernel() {
    let software = software_caps();
    let hardware = DeviceCaps {
        software: false,
        ..DeviceCaps::with_limits(128 << 20, 256 << 20, 65535)
    };
    let family = |family| AlgorithmFilter { family, only: None };
    let s = Padding::Same;
    let cases = [
        // (shape, k, stride, dilation, filters, groups) -> software, hardware, packed
        (
            ([1, 16, 16, 32], 3, 1, 1, 32, 32),
            depthwise::TILED_ID,
            depthwise::TILED_ID,
            false,
        ),
        (
            ([1, 40, 40, 8], 11, 1, 1, 8, 8),
            depthwise::LOOP_ID,
            depthwise::LOOP_ID,
            false,
        ),
        (
            ([1, 16, 16, 3], 3, 1, 1, 3, 3),
            depthwise::TILED_ID,
            depthwise::TILED_ID,
            true,
        ),
        (
            ([1, 16, 16, 8], 3, 1, 1, 24, 8),
            depthwise::TILED_ID,
            depthwise::TILED_ID,
            true,
        ),
        (([1, 16, 16, 128], 3, 1, 1, 128, 32), grouped::ID, grouped::ID, false),
        (
            ([1, 16, 16, 64], 3, 1, 1, 64, 1),
            texture_weights::WIDE_ID,
            igemm_tiled::ID,
            false,
        ),
        (
            ([1, 16, 16, 3], 7, 2, 1, 64, 1),
            texture_weights::WIDE_ID,
            igemm_tiled::ID,
            true,
        ),
        (
            ([1, 32, 32, 3], 3, 1, 1, 16, 1),
            igemm_subgroup::NARROW_ID,
            igemm_tiled::ID,
            true,
        ),
        (
            ([1, 32, 32, 8], 3, 1, 1, 8, 1),
            igemm_subgroup::NARROW_ID,
            igemm_tiled::ID,
            false,
        ),
        (
            ([1, 16, 16, 64], 3, 1, 1, 64, 8),
            igemm_subgroup::NARROW_ID,
            igemm_tiled::ID,
            false,
        ),
        (
            ([1, 16, 16, 6], 3, 1, 1, 64, 2),
            texture_weights::WIDE_ID,
            igemm_tiled::ID,
            true,
        ),
        (
            ([1, 16, 16, 64], 1, 1, 1, 6, 1),
            igemm_subgroup::NARROW_ID,
            igemm_tiled::ID,
            true,
        ),
        (
            ([1, 7, 7, 64], 1, 1, 1, 1001, 1),
            texture_weights::WIDE_ID,
            igemm_tiled::ID,
            true,
        ),
    ];
    for ((shape, k, st, d, f, groups), on_software, on_hardware, packed) in cases {
        let g = geometry(shape, k, st, d, f, groups, s);
        let chosen =
            |caps: &DeviceCaps, f: KernelFamily| plan(&g, caps, &family(f), ElementType::F32, linear()).unwrap();
        let p = chosen(&software, KernelFamily::Auto);
        assert_eq!(
            (p.algorithm, p.weight_prep.packing.is_some()),
            (on_software, packed),
            "{g:?}"
        );
        assert_eq!(chosen(&hardware, KernelFamily::Auto).algorithm, on_hardware, "{g:?}");
        // No family: only the kernels of none, and direct takes the dense layers unpacked.
        let plain = chosen(&software, KernelFamily::Direct);
        assert!(
            matches!(
                plain.algorithm.0,
                "direct" | "depthwise_tiled" | "depthwise_loop" | "grouped_tiled"
            ),
            "{}",
            plain.algorithm
        );
        if plain.algorithm == direct::ID {
            assert!(plain.weight_prep.packing.is_none() && plain.chunks[0].pack.is_none());
        }
    }
    // An explicit list is taken as given, and the direct kernel takes what it declines.
    let only = AlgorithmFilter {
        family: KernelFamily::Auto,
        only: Some(vec![igemm_tiled::ID]),
    };
    let g = geometry([1, 16, 16, 64], 3, 1, 1, 64, 1, s);
    assert_eq!(
        select::choose(&g, &software, &only, ElementType::F32).id(),
        igemm_tiled::ID
    );
    let rgb_depthwise = geometry([1, 16, 16, 3], 3, 1, 1, 3, 3, s);
    assert_eq!(
        select::choose(&rgb_depthwise, &software, &only, ElementType::F32).id(),
        direct::ID
    );
}

#[test]
fn passes_are_planned_with_their_dispatch() {
    let caps = DeviceCaps {
        subgroup8: true,
        software: true,
        ..DeviceCaps::with_limits(128 << 20, 256 << 20, 65535)
    };
    let g = geometry([2, 9, 9, 3], 3, 1, 1, 8, 1, Padding::Same);
    let p = plan(
        &g,
        &caps,
        &AlgorithmFilter::default(),
        ElementType::F32,
        Epilogue::new(Activation::Glu, false),
    )
    .unwrap();
    assert_eq!(p.output_shape, [2, 9, 9, 4]);
    assert!(p.weight_prep.packing.is_some(), "{}", p.describe());
    let c = &p.chunks[0];
    assert_eq!(c.pack.as_ref().unwrap().output_len, 2 * 81 * 4);
    assert_eq!(c.conv.output_len, 2 * 81 * 8);
    assert!(
        c.unpack.is_none(),
        "channels_last with whole filter vec4s: the conv writes the output"
    );
    assert_eq!(c.last_axis.as_ref().unwrap().output_len, 2 * 81 * 4);
    assert!(
        p.describe()
            .starts_with("packed (channels 3->4) + narrow implicit GEMM"),
        "{}",
        p.describe()
    );
}

/// The wide subgroup GEMM's tile fits the map and the filters (`kernels::columns` and
/// `igemm_subgroup::wide_rows`): 7 pixels a lane on 14x14 and 7x7 maps, 8 elsewhere; 3 filter
/// vec4 columns a lane for 192 and 144 filters, 4 for 256.
#[test]
fn wide_gemm_tiles_fit_the_map_and_the_filters() {
    let software = software_caps();
    // (input, kernel, stride, filters) -> (rows, columns per lane)
    for (shape, k, s, filters, rows, cols) in [
        ([1, 14, 14, 256], 3, 1, 256, 56, 4),
        ([1, 7, 7, 512], 1, 1, 2048, 56, 4),
        ([1, 28, 28, 512], 1, 2, 1024, 56, 4),
        ([1, 28, 28, 128], 3, 1, 128, 64, 4),
        ([1, 56, 56, 64], 1, 1, 256, 64, 4),
        ([1, 17, 17, 768], 1, 1, 192, 64, 3),
        ([1, 56, 56, 24], 1, 1, 144, 64, 3),
        ([1, 35, 35, 64], 3, 1, 96, 64, 3),
        ([1, 1, 1, 8], 1, 1, 32, igemm_subgroup::WIDE_ROWS_TINY, 1),
    ] {
        let g = geometry(shape, k, s, 1, filters, 1, Padding::Same);
        let p = plan(&g, &software, &AlgorithmFilter::default(), ElementType::F32, linear()).unwrap();
        assert_eq!(
            p.algorithm,
            texture_weights::WIDE_ID,
            "{shape:?} {filters}: {}",
            p.describe()
        );
        assert_eq!(
            (p.variant.get(0), p.variant.get(1)),
            (rows, cols),
            "{shape:?} k{k} s{s} {filters}"
        );
    }
}

/// The rules run Winograd on 3x3 stride-1 layers of at least `winograd::RULES_MIN_PIXELS` output
/// pixels and 64 filters per group (where it measured faster than the wide GEMM), the wide GEMM
/// on the rest; an explicit algorithm list still runs Winograd anywhere it supports.
#[test]
fn winograd_is_the_rule_on_large_3x3_maps() {
    let software = software_caps();
    let rules = AlgorithmFilter::default();
    // (input, stride, dilation, filters, groups) -> Winograd by the rules
    for (shape, s, d, filters, groups, winograd_rule) in [
        ([1, 56, 56, 64], 1, 1, 64, 1, true),
        ([8, 32, 32, 64], 1, 1, 64, 1, true),
        ([1, 64, 64, 256], 1, 2, 256, 1, true),
        ([1, 56, 56, 128], 1, 2, 128, 2, true),
        ([1, 56, 56, 128], 1, 1, 32, 1, false),
        ([1, 28, 28, 128], 1, 1, 128, 1, false),
        ([1, 14, 14, 256], 1, 1, 256, 1, false),
        ([1, 112, 112, 64], 2, 1, 64, 1, false),
    ] {
        let g = geometry(shape, 3, s, d, filters, groups, Padding::Same);
        let p = plan(&g, &software, &rules, ElementType::F32, linear()).unwrap();
        let expected = if winograd_rule {
            texture_weights::WINOGRAD_ID
        } else {
            texture_weights::WIDE_ID
        };
        assert_eq!(
            p.algorithm,
            expected,
            "{shape:?} s{s} d{d} {filters}/{groups}: {}",
            p.describe()
        );
    }
    let only = AlgorithmFilter {
        family: KernelFamily::Auto,
        only: Some(vec![winograd::ID]),
    };
    let g = geometry([1, 14, 14, 256], 3, 1, 1, 256, 1, Padding::Same);
    assert_eq!(
        plan(&g, &software, &only, ElementType::F32, linear())
            .unwrap()
            .algorithm,
        winograd::ID
    );
}

/// Float32 layers run the wide GEMM with its kernel in a texture (resident as
/// `WeightPrep::texture`, packed with the layer where it is); half types, and kernels taller or
/// wider than the device's 2-D texture size, run the wide GEMM reading a buffer.
#[test]
fn texture_weights_where_float32_fits_a_texture() {
    let mut software = software_caps();
    software.shader_f16 = true;
    let rules = AlgorithmFilter::default();
    // (input, kernel, filters, element) -> texture weights
    for (shape, k, filters, element, texture) in [
        ([1, 14, 14, 256], 3, 256, ElementType::F32, true),
        ([1, 14, 14, 6], 3, 64, ElementType::F32, true),
        ([1, 14, 14, 256], 3, 256, ElementType::F16, false),
        ([1, 14, 14, 256], 3, 256, ElementType::BF16, false),
        // 3 x 3 x 2048 = 18432 rows > 16384.
        ([1, 7, 7, 2048], 3, 64, ElementType::F32, false),
        // 16384 rows, and 16384 texels wide: at the limit; one row over it.
        ([1, 7, 7, 16384], 1, 64, ElementType::F32, true),
        ([1, 7, 7, 4], 1, 65536, ElementType::F32, true),
        ([1, 7, 7, 16388], 1, 64, ElementType::F32, false),
    ] {
        let g = geometry(shape, k, 1, 1, filters, 1, Padding::Same);
        let p = plan(&g, &software, &rules, element, linear()).unwrap();
        let expected = if texture {
            texture_weights::WIDE_ID
        } else {
            igemm_subgroup::WIDE_ID
        };
        assert_eq!(
            p.algorithm,
            expected,
            "{shape:?} k{k} {filters} {element}: {}",
            p.describe()
        );
        assert_eq!(p.weight_prep.texture, texture, "{shape:?} {element}");
        assert_eq!(
            p.weight_prep.packing.is_some(),
            shape[3] == 6,
            "{shape:?}: {}",
            p.describe()
        );
    }
    let mut narrower = software;
    narrower.max_texture_2d = 16383;
    let g = geometry([1, 7, 7, 4], 1, 1, 1, 65536, 1, Padding::Same);
    let p = plan(&g, &narrower, &rules, ElementType::F32, linear()).unwrap();
    assert_eq!(
        p.algorithm,
        igemm_subgroup::WIDE_ID,
        "16384 texels wide: {}",
        p.describe()
    );
}

/// On a CPU adapter the wide GEMM splits a small layer's filters over more column tiles where
/// its threads would otherwise idle (`columns::balanced_lane_columns`): DenseNet121's 7x7x1024 ->
/// 128 runs as two workgroups of 64 filters on two threads, one of 128 on a GPU.
#[test]
fn small_layers_keep_every_cpu_thread_busy() {
    let mut cpu = software_caps();
    let g = geometry([1, 7, 7, 1024], 1, 1, 1, 128, 1, Padding::Same);
    for (threads, cols) in [(0, 4), (1, 4), (2, 2), (4, 1)] {
        cpu.threads = threads;
        let p = plan(&g, &cpu, &AlgorithmFilter::default(), ElementType::F32, linear()).unwrap();
        assert_eq!(p.variant.get(1), cols, "{threads} threads: {}", p.describe());
    }
}
