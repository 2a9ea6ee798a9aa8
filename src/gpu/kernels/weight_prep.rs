//! The layouts in which a layer's kernel and bias are resident on a device for a plan, and how
//! each is made from Keras's HWIO kernel.

use std::borrow::Cow;

use crate::gpu::kernels::{layout, winograd};
use crate::gpu::program::ElementType;

/// The layout in which the kernel (and bias) are resident for a plan: Keras's own, or packed with
/// the layer for the vec4 kernels ([`layout::Packing`]), whose passes then run around the conv;
/// either one Winograd-transformed for [`winograd`]; in a storage buffer or a texture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeightPrep {
    /// Packed to match a packed layer (`None`: Keras's HWIO kernel and its bias as they are).
    pub packing: Option<layout::Packing>,
    /// Winograd-transformed after any packing ([`winograd::filter_transform`]).
    pub winograd: bool,
    /// Resident as an rgba32float texture instead of a storage buffer: one row per HWIO row
    /// `(ky, kx, channel)` (Winograd: per `(position, channel)` of U), one texel per 4 filters,
    /// for the kernels that read it with `textureLoad` (a texel fetch costs llvmpipe about half a
    /// storage load, measured).
    pub texture: bool,
}

impl WeightPrep {
    /// The kernel in this layout, from Keras's HWIO `kernel` of `[kh, kw, cin_g, f]` with `groups`.
    pub fn kernel(self, kernel: &[f32], shape: [usize; 4], groups: usize) -> Cow<'_, [f32]> {
        let packed = match self.packing {
            Some(p) => Cow::Owned(p.kernel(kernel, shape, groups)),
            None => Cow::Borrowed(kernel),
        };
        if self.winograd {
            let packed_shape = self.packing.map_or(shape, |p| p.kernel_shape(shape, groups));
            Cow::Owned(winograd::filter_transform(&packed, packed_shape))
        } else {
            packed
        }
    }

    /// The bias in this layout.
    pub fn bias(self, bias: &[f32], groups: usize) -> Cow<'_, [f32]> {
        match self.packing {
            Some(p) => Cow::Owned(p.bias(bias, groups)),
            None => Cow::Borrowed(bias),
        }
    }

    /// The kernel's shape in this layout, from Keras's HWIO `shape`: HWIO, packed when the layer
    /// is; a Winograd-transformed kernel's 4x4 positions in place of the 3x3 taps.
    pub fn kernel_shape(self, shape: [usize; 4], groups: usize) -> [usize; 4] {
        let [kh, kw, cin, f] = self.packing.map_or(shape, |p| p.kernel_shape(shape, groups));
        if self.winograd {
            [4, 4, cin, f]
        } else {
            [kh, kw, cin, f]
        }
    }

    /// How the kernel is stored for a call stored as `element`: as `element`, except a
    /// Winograd-transformed kernel, which stays f32 (its transform rounded to a half type would
    /// add an error of its own: 2 ulp from the oracle in float16, measured).
    pub fn kernel_element(self, element: ElementType) -> ElementType {
        if self.winograd {
            ElementType::F32
        } else {
            element
        }
    }

    /// The buffer label of the kernel in this layout.
    pub fn label(self) -> &'static str {
        match (self.winograd, self.texture) {
            (true, true) => "wgpu-conv2d kernel (Winograd, texture)",
            (true, false) => "wgpu-conv2d kernel (Winograd)",
            (false, true) => "wgpu-conv2d kernel (texture)",
            (false, false) if self.packing.is_some() => "wgpu-conv2d kernel (packed)",
            (false, false) => "wgpu-conv2d kernel",
        }
    }
}
