//! The layouts in which a layer's kernel and bias are resident on a device for a plan, and how
//! each is made from Keras's HWIO kernel.

use std::borrow::Cow;

use crate::gpu::kernels::{layout, winograd};
use crate::gpu::program::ElementType;

/// The layout in which the kernel (and bias) are resident for a plan: Keras's own, or packed with
/// the layer for the vec4 kernels ([`layout::Packing`]), whose passes then run around the conv;
/// either one Winograd-transformed for [`winograd`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightPrep {
    /// Keras's HWIO kernel and its bias as they are.
    Hwio,
    /// Packed to match a packed layer.
    Packed(layout::Packing),
    /// The HWIO kernel Winograd-transformed ([`winograd::filter_transform`]).
    Winograd,
    /// Packed, then Winograd-transformed.
    PackedWinograd(layout::Packing),
    /// Keras's kernel (packed with the layer, when it is) as an rgba32float texture: one row per
    /// HWIO row `(ky, kx, channel)`, one texel per 4 filters, for the GEMMs that read it with
    /// `textureLoad` (a texel fetch costs llvmpipe about half a storage load, measured).
    Texture(Option<layout::Packing>),
    /// Winograd-transformed (packed first, when the layer is) as an rgba32float texture: one row
    /// per `(position, channel)` of U, one texel per 4 filters.
    WinogradTexture(Option<layout::Packing>),
}

impl WeightPrep {
    /// The kernel in this layout, from Keras's HWIO `kernel` of `[kh, kw, cin_g, f]` with `groups`.
    pub fn kernel(self, kernel: &[f32], shape: [usize; 4], groups: usize) -> Cow<'_, [f32]> {
        match self {
            Self::Hwio | Self::Texture(None) => Cow::Borrowed(kernel),
            Self::Packed(p) | Self::Texture(Some(p)) => Cow::Owned(p.kernel(kernel, shape, groups)),
            Self::Winograd | Self::WinogradTexture(None) => Cow::Owned(winograd::filter_transform(kernel, shape)),
            Self::PackedWinograd(p) | Self::WinogradTexture(Some(p)) => Cow::Owned(winograd::filter_transform(
                &p.kernel(kernel, shape, groups),
                p.kernel_shape(shape, groups),
            )),
        }
    }

    /// The bias in this layout.
    pub fn bias(self, bias: &[f32], groups: usize) -> Cow<'_, [f32]> {
        match self {
            Self::Hwio | Self::Winograd | Self::Texture(None) | Self::WinogradTexture(None) => Cow::Borrowed(bias),
            Self::Packed(p) | Self::PackedWinograd(p) | Self::Texture(Some(p)) | Self::WinogradTexture(Some(p)) => {
                Cow::Owned(p.bias(bias, groups))
            }
        }
    }

    /// The packing, when the layer is packed.
    pub fn packing(self) -> Option<layout::Packing> {
        match self {
            Self::Hwio | Self::Winograd => None,
            Self::Packed(p) | Self::PackedWinograd(p) => Some(p),
            Self::Texture(p) | Self::WinogradTexture(p) => p,
        }
    }

    /// The kernel's shape in this layout, from Keras's HWIO `shape`: HWIO, packed when the layer
    /// is; a Winograd-transformed kernel's 4x4 positions in place of the 3x3 taps.
    pub fn kernel_shape(self, shape: [usize; 4], groups: usize) -> [usize; 4] {
        let [kh, kw, cin, f] = self.packing().map_or(shape, |p| p.kernel_shape(shape, groups));
        match self {
            Self::Winograd | Self::PackedWinograd(_) | Self::WinogradTexture(_) => [4, 4, cin, f],
            Self::Hwio | Self::Packed(_) | Self::Texture(_) => [kh, kw, cin, f],
        }
    }

    /// True when the kernel is resident as a texture.
    pub fn is_texture(self) -> bool {
        matches!(self, Self::Texture(_) | Self::WinogradTexture(_))
    }

    /// How the kernel is stored for a call stored as `element`: as `element`, except a
    /// Winograd-transformed kernel, which stays f32 (its transform rounded to a half type would
    /// add an error of its own: 2 ulp from the oracle in float16, measured).
    pub fn kernel_element(self, element: ElementType) -> ElementType {
        match self {
            Self::Winograd | Self::PackedWinograd(_) | Self::WinogradTexture(_) => ElementType::F32,
            Self::Hwio | Self::Packed(_) | Self::Texture(_) => element,
        }
    }

    /// The buffer label of the kernel in this layout.
    pub fn label(self) -> &'static str {
        match self {
            Self::Hwio => "wgpu-conv2d kernel",
            Self::Packed(_) => "wgpu-conv2d kernel (packed)",
            Self::Winograd | Self::PackedWinograd(_) => "wgpu-conv2d kernel (Winograd)",
            Self::Texture(_) => "wgpu-conv2d kernel (texture)",
            Self::WinogradTexture(_) => "wgpu-conv2d kernel (Winograd, texture)",
        }
    }
}
