//! Depthwise convolution of channels_first layers read and written as they lie (`kernel.rs`):
//! groups = channels, any depth multiplier, any width, each plane's rows read as the aligned vec4s
//! that cover them, so no pass transposes the input into channel vec4s (on llvmpipe that pass
//! cost more than the convolution on MobileNetV2's depthwise layers). Channels a multiple of 4
//! (the input binds as vec4s); bf16 only where the output's rows hold whole vec4s (no single
//! bf16 value can be stored without owning its word).

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::Result;
use crate::gpu::device::DeviceCaps;
use crate::gpu::kernels::depthwise::{self, Taps};
use crate::gpu::kernels::params::ConvUniform;
use crate::gpu::kernels::{Algorithm, AlgorithmId, Epilogue, Program, Sample, UniformLayout};
use crate::gpu::program::{BindingShape, ElementType, Variant};

pub mod kernel;

/// The registry id.
pub const ID: AlgorithmId = AlgorithmId("depthwise_planes");

/// The planes depthwise kernel.
pub struct DepthwisePlanes;

/// The registry's instance.
pub static PLANES: DepthwisePlanes = DepthwisePlanes;

const BLOCK: [u32; 2] = [kernel::TILE_Y, kernel::TILE_X];

fn rows_hold_vec4s(g: &Conv2dGeometry) -> bool {
    g.out_w.is_multiple_of(4)
}

/// The variant's code for the row offset: 0-3 fixed, 4 per row.
const PER_ROW: u32 = 4;

fn variant(t: Taps, shift: u32, rows4: bool) -> Variant {
    let ([kh, kw], [sh, sw], [dh, dw]) = (t.kernel, t.strides, t.dilation);
    Variant::of(&[kh, kw, sh, sw, dh, dw, shift, u32::from(rows4)])
}

/// The row offset of `g`: fixed where every input row starts on a vec4 (width a multiple of 4),
/// so that a row's window starts at the left padding's offset; else per row.
fn shift_of(g: &Conv2dGeometry) -> u32 {
    if g.in_w.is_multiple_of(4) {
        ((4 - g.pad[2] % 4) % 4) as u32
    } else {
        PER_ROW
    }
}

impl Program for DepthwisePlanes {
    fn name(&self) -> &'static str {
        ID.0
    }

    fn variant_params(&self) -> &'static [&'static str] {
        &["kh", "kw", "sh", "sw", "dh", "dw", "shift", "rows4"]
    }

    /// One variant per kernel size, stride, dilation, row offset and row layout; these are the
    /// samples' (representative taps at every offset and in both row layouts).
    fn variants(&self) -> Vec<Variant> {
        let mut out: Vec<Variant> = Vec::new();
        for s in self.samples() {
            if let Ok(g) = Conv2dGeometry::new(&s.params, s.input_shape) {
                let v = variant(depthwise::taps(&g), shift_of(&g), rows_hold_vec4s(&g));
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    fn body(&self, variant: &Variant) -> String {
        let shift = match variant.get(6) {
            PER_ROW => kernel::Shift::PerRow,
            k => kernel::Shift::Fixed(k),
        };
        kernel::body(Taps::from_variant(variant), shift, variant.get(7) != 0)
    }

    fn stores_single_values(&self, variant: &Variant) -> bool {
        variant.get(7) == 0
    }

    fn binding_shape(&self) -> BindingShape {
        BindingShape::Conv
    }

    fn uniform_layout(&self) -> UniformLayout {
        ConvUniform::layout()
    }
}

impl Algorithm for DepthwisePlanes {
    fn reads_any_layout(&self) -> bool {
        true
    }

    fn supports(&self, g: &Conv2dGeometry, _caps: &DeviceCaps, element: ElementType) -> bool {
        g.data_format == DataFormat::ChannelsFirst
            && g.groups == g.in_c
            && g.in_c.is_multiple_of(4)
            && kernel::fits(&depthwise::taps(g))
            && (element != ElementType::BF16 || rows_hold_vec4s(g))
    }

    fn variant_for(&self, g: &Conv2dGeometry, _epilogue: &Epilogue, _caps: &DeviceCaps) -> Variant {
        variant(depthwise::taps(g), shift_of(g), rows_hold_vec4s(g))
    }

    fn workgroups(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk) -> Option<u64> {
        let (_, total) = depthwise::block_grid(g, chunk, BLOCK, g.filters)?;
        Some(total.div_ceil(crate::gpu::kernels::WORKGROUP as u64))
    }

    fn uniform(&self, g: &Conv2dGeometry, _variant: &Variant, chunk: &Chunk, epilogue: &Epilogue) -> Result<Vec<u8>> {
        depthwise::block_uniform(g, chunk, epilogue, BLOCK, g.filters)
    }

    fn describe(&self, variant: &Variant) -> String {
        format!(
            "depthwise on channels_first planes, 1 ch x {}x{} px per invocation{}",
            kernel::TILE_Y,
            kernel::TILE_X,
            if variant.get(7) != 0 {
                ""
            } else {
                ", single-value stores"
            }
        )
    }

    fn samples(&self) -> Vec<Sample> {
        Taps::representative()
            .into_iter()
            .enumerate()
            .flat_map(|(i, t)| {
                let c = 4 * (1 + i % 3);
                let mult = 1 + i % 3;
                let layer = |[n, h, w]: [usize; 3]| {
                    let s = Sample::new([n, h, w, c], (c * mult) as u32, 1)
                        .kernel(t.kernel[0], t.kernel[1])
                        .strides(t.strides[0], t.strides[1])
                        .dilation(t.dilation[0])
                        .groups(c as u32)
                        .channels_first();
                    let mut s = if i % 2 == 0 { s.same() } else { s };
                    s.input_shape = [n, c, h, w];
                    s
                };
                // Odd widths (rows at every offset within a vec4), then rows of whole vec4s
                // (the window's offset fixed by the padding), `same` and `valid`.
                let mut valid = layer([1, 9, 16]);
                valid.params.padding = crate::conv::Padding::Valid;
                [layer([1 + i % 2, 13, 17]), layer([2 - i % 2, 9, 16]).same(), valid]
            })
            .collect()
    }
}
