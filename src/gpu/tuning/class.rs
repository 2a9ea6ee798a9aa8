//! The geometry class one tuning measurement stands for.
//!
//! A convolution is a GEMM of M = N·Ho·Wo output pixels by N = filters per group by K =
//! kh·kw·Cin/groups, plus a gather whose pattern is set by the window, the strides and dilation.
//! Which kernel wins depends on the GEMM's proportions (tile occupancy, how many K steps, how
//! many workgroups) and on the gather, not on exact sizes: shapes within a factor of two on each
//! GEMM axis fill tiles alike. So the class is the window, strides, whether it is dilated, the
//! group kind, the data format, the vec4 alignment of the channels (which decides the kernels
//! that apply), the element type, and M, N, K rounded up to powers of two: ResNet's 3x3 layers
//! at 56x56/64 and 28x28/128 are two classes, a batch of 8 one more, and a model of 50 layers
//! typically needs 10–20 measurements.

use crate::conv::{Conv2dGeometry, DataFormat};
use crate::gpu::program::ElementType;

/// The class of a geometry (see the module docs), printable as the cache's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GeometryClass(pub String);

/// log2 of `n` rounded up to a power of two (0 for 0 and 1).
fn log2_ceil(n: usize) -> u32 {
    n.max(1).next_power_of_two().trailing_zeros()
}

impl GeometryClass {
    /// The class of `g` (the layer's own geometry) stored as `element`.
    pub fn of(g: &Conv2dGeometry, element: ElementType) -> Self {
        let (cin_g, f_g) = (g.cin_per_group(), g.filters_per_group());
        let kind = if g.groups == 1 {
            "dense"
        } else if cin_g == 1 {
            "depthwise"
        } else {
            "grouped"
        };
        let format = match g.data_format {
            DataFormat::ChannelsLast => "last",
            DataFormat::ChannelsFirst => "first",
        };
        let aligned = cin_g.is_multiple_of(4) && f_g.is_multiple_of(4);
        let m = g.batch * g.out_h * g.out_w;
        let k = g.kernel[0] * g.kernel[1] * cin_g;
        GeometryClass(format!(
            "{element} {kind} k{}x{} s{}x{} {} {format} {} m2^{} n2^{} k2^{}",
            g.kernel[0],
            g.kernel[1],
            g.strides[0],
            g.strides[1],
            if g.dilation == [1, 1] { "d1" } else { "dilated" },
            if aligned { "vec4" } else { "unaligned" },
            log2_ceil(m),
            log2_ceil(f_g),
            log2_ceil(k),
        ))
    }
}

impl std::fmt::Display for GeometryClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::{ConvParams, Padding};

    fn geometry(input: [usize; 4], filters: u32, k: u32, groups: u32) -> Conv2dGeometry {
        let params = ConvParams {
            filters,
            kernel_size: [k, k],
            strides: [1, 1],
            dilation_rate: [1, 1],
            padding: Padding::Same,
            groups,
            data_format: DataFormat::ChannelsLast,
        };
        Conv2dGeometry::new(&params, input).unwrap()
    }

    #[test]
    fn neighbours_share_a_class_and_proportions_split_them() {
        let a = GeometryClass::of(&geometry([1, 56, 56, 64], 64, 3, 1), ElementType::F32);
        let b = GeometryClass::of(&geometry([1, 50, 60, 60], 60, 3, 1), ElementType::F32);
        assert_eq!(a, b, "within a factor of two on every GEMM axis");
        let c = GeometryClass::of(&geometry([1, 28, 28, 128], 128, 3, 1), ElementType::F32);
        assert_ne!(a, c);
        assert_ne!(
            a,
            GeometryClass::of(&geometry([1, 56, 56, 64], 64, 3, 1), ElementType::F16)
        );
        assert_ne!(
            a,
            GeometryClass::of(&geometry([1, 56, 56, 64], 64, 1, 1), ElementType::F32)
        );
        let dw = GeometryClass::of(&geometry([1, 56, 56, 64], 64, 3, 64), ElementType::F32);
        assert!(dw.0.contains("depthwise"), "{dw}");
        assert_eq!(a.0, "f32 dense k3x3 s1x1 d1 last vec4 m2^12 n2^6 k2^10");
    }
}
