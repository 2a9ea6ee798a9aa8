//! Named regression cases, one per bug found.

mod common;

use wgpu_conv2d::conv::ConvParams;
use wgpu_conv2d::conv::{DataFormat, Padding};
use wgpu_conv2d::gpu::kernels::Epilogue;
use wgpu_conv2d::gpu::plan::plan;
use wgpu_conv2d::gpu::{AlgorithmFilter, DeviceCaps, ElementType};
use wgpu_conv2d::io::npy;
use wgpu_conv2d::{Conv2d, Conv2dConfig, Conv2dGeometry, Device, Error, GpuContext, GpuOptions, Tensor};

fn geometry(shape: [usize; 4], k: u32, s: u32, filters: u32) -> Conv2dGeometry {
    let params = ConvParams {
        filters,
        kernel_size: [k, k],
        strides: [s, s],
        dilation_rate: [1, 1],
        padding: Padding::Same,
        groups: 1,
        data_format: DataFormat::ChannelsLast,
    };
    Conv2dGeometry::new(&params, shape).unwrap()
}

fn linear() -> Epilogue {
    Epilogue::new(wgpu_conv2d::Activation::Linear, true)
}

/// The planner returned a row band's end where its length was meant: a 2048x2048 split read
/// past the input (slice index 6289408 of 4194304).
#[test]
fn row_band_input_length_is_a_length_not_an_end() {
    let g = geometry([1, 2048, 2048, 1], 3, 1, 16);
    let limits = DeviceCaps::with_limits(128 << 20, 1 << 31, 65535);
    let p = plan(&g, &limits, &AlgorithmFilter::default(), ElementType::F32, linear()).unwrap();
    assert!(p.chunks.len() > 1);
    for c in p.chunks.iter().map(|c| c.chunk) {
        assert!(c.in_row_start + c.in_rows <= g.in_h, "{c:?}");
        assert!(c.in_rows <= c.out_rows + 2, "{c:?}: halo of a 3x3 kernel is 2 rows");
    }
}

/// The row search doubled past the rows left before its binary search, planning output rows
/// beyond the image (index 45 of 45).
#[test]
fn row_search_never_passes_the_last_output_row() {
    let g = geometry([1, 90, 61, 4], 5, 2, 6);
    let tiny = DeviceCaps::with_limits(64 * 1024, 256 * 1024, 8);
    let p = plan(&g, &tiny, &AlgorithmFilter::default(), ElementType::F32, linear()).unwrap();
    let last = p.chunks.last().unwrap().chunk;
    assert_eq!(last.out_row_start + last.out_rows, g.out_h);
    assert_eq!(p.chunks.iter().map(|c| c.chunk.out_rows).sum::<usize>(), g.out_h);
}

/// wgpu's create_buffer_init panicked ("Failed to get mapped range") after device.destroy().
#[test]
fn upload_after_device_destroy_is_an_error_not_a_panic() {
    if common::gpu::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new(&GpuOptions::default()).unwrap();
    ctx.device().destroy();
    let config = Conv2dConfig::builder(1, 1).build().unwrap();
    let layer = Conv2d::with_weights(
        config,
        Tensor::zeros([1, 1, 1, 1]).unwrap(),
        Some(Tensor::zeros([1]).unwrap()),
    )
    .unwrap();
    let err = layer
        .forward_on(&Device::Gpu(ctx), &Tensor::zeros([1, 2, 2, 1]).unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::DeviceLost { .. }), "{err}");
}

/// Fortran-order .npy files (NumPy writes them for transposed arrays) were refused.
#[test]
fn fortran_order_npy_is_read_as_its_transpose() {
    let bytes = npy::to_bytes(&Tensor::new([2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    let text = bytes
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .replace("'fortran_order': False", "'fortran_order': True ");
    let fortran: Vec<u8> = text.chars().map(|c| c as u8).collect();
    assert_eq!(npy::parse(&fortran, "f").unwrap().data(), &[1.0, 3.0, 2.0, 4.0]);
}
