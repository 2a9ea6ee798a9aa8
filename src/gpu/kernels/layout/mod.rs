//! Packing a layer for the vec4 kernels, so every layer runs on one: channels_first input and
//! output, channel and filter counts that are not multiples of 4 (per group), depthwise layers with
//! any channel count and with depth multipliers. A `pack_input` pass turns a chunk's input into
//! channels_last vec4 pixels, the conv runs on the packed geometry with a kernel (and bias)
//! packed to match, and an `unpack_output` pass writes the layer's own layout, padding dropped.

use bytemuck::bytes_of;

use crate::conv::{Chunk, Conv2dGeometry, DataFormat};
use crate::error::{Error, Result};
use crate::gpu::kernels::params::to_u32;
use crate::gpu::kernels::{Program, WORKGROUP};
use crate::gpu::program::Variant;

pub mod fold;
mod passes;

pub use passes::*;

/// How a layer is packed for the vec4 kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Packing {
    /// Each group's channels padded to `cin_g` and filters to `f_g` (both multiples of 4).
    Grouped {
        /// Packed channels per group.
        cin_g: usize,
        /// Packed filters per group.
        f_g: usize,
    },
    /// A depthwise layer with `mult` filters per channel: each channel repeated `mult` times, then
    /// zero channels up to `channels` (a multiple of 4); the packed layer is depthwise with one filter each.
    Depthwise {
        /// Filters per input channel (Keras: `filters / groups` with `groups = Cin`).
        mult: usize,
        /// Packed channels (= packed filters).
        channels: usize,
    },
    /// A strided layer with few channels, its kernel columns folded into `channels` channels and
    /// its filters padded to `filters` ([`fold`]).
    FoldColumns {
        /// Folded channels (`ceil4(kw · Cin)`).
        channels: usize,
        /// Packed filters.
        filters: usize,
    },
}

/// Invocations per workgroup of the plane passes (`WORKGROUP` in their WGSL); the scalar passes
/// use the crate's usual 64.
pub const PLANES_WORKGROUP: u32 = 256;

/// One pass of a packed layer: its program and variant, uniform bytes, workgroups and output elements.
pub type PassStep = (&'static dyn Program, Variant, Vec<u8>, u64, usize);

fn ceil4(v: usize) -> usize {
    v.div_ceil(4) * 4
}

impl Packing {
    /// How `g` must be packed, or `None` when the vec4 kernels read it as it is (channels_last,
    /// channels and filters per group multiples of 4, or a depthwise layer over vec4s of channels).
    pub fn for_geometry(g: &Conv2dGeometry) -> Option<Self> {
        if fold::folds(g) {
            return Some(Self::FoldColumns {
                channels: fold::channels(g),
                filters: ceil4(g.filters),
            });
        }
        let (cin_g, f_g) = (g.cin_per_group(), g.filters_per_group());
        let last = g.data_format == DataFormat::ChannelsLast;
        if cin_g == 1 && g.groups > 1 {
            let fits = last && f_g == 1 && g.in_c.is_multiple_of(4);
            return (!fits).then_some(Self::Depthwise {
                mult: f_g,
                channels: ceil4(g.filters),
            });
        }
        let fits = last && cin_g.is_multiple_of(4) && f_g.is_multiple_of(4);
        (!fits).then_some(Self::Grouped {
            cin_g: ceil4(cin_g),
            f_g: ceil4(f_g),
        })
    }

    /// The geometry the conv kernel runs: channels_last, the packed counts.
    pub fn geometry(self, g: &Conv2dGeometry) -> Conv2dGeometry {
        let mut p = *g;
        p.data_format = DataFormat::ChannelsLast;
        match self {
            Self::Grouped { cin_g, f_g } => {
                p.in_c = cin_g * g.groups;
                p.filters = f_g * g.groups;
            }
            Self::Depthwise { channels, .. } => {
                (p.in_c, p.filters, p.groups) = (channels, channels, channels);
            }
            Self::FoldColumns { channels, filters } => return fold::geometry(g, channels, filters),
        }
        p
    }

    /// The HWIO `kernel` of `[kh, kw, cin_g, filters]` (with `groups`) packed to match.
    pub fn kernel(self, kernel: &[f32], [kh, kw, cin, f]: [usize; 4], groups: usize) -> Vec<f32> {
        match self {
            Self::FoldColumns { channels, filters } => fold::kernel(kernel, [kh, kw, cin, f], channels, filters),
            Self::Depthwise { channels, .. } => {
                let mut out = vec![0.0; kh * kw * channels];
                for tap in 0..kh * kw {
                    out[tap * channels..tap * channels + f].copy_from_slice(&kernel[tap * f..(tap + 1) * f]);
                }
                out
            }
            Self::Grouped { cin_g, f_g } => {
                let (fg_in, fp) = (f / groups, f_g * groups);
                let mut out = vec![0.0; kh * kw * cin_g * fp];
                for tap in 0..kh * kw {
                    for c in 0..cin {
                        for g in 0..groups {
                            let src = (tap * cin + c) * f + g * fg_in;
                            let dst = (tap * cin_g + c) * fp + g * f_g;
                            out[dst..dst + fg_in].copy_from_slice(&kernel[src..src + fg_in]);
                        }
                    }
                }
                out
            }
        }
    }

    /// The shape [`Packing::kernel`] returns for a kernel of `shape` with `groups`.
    pub fn kernel_shape(self, [kh, kw, _, _]: [usize; 4], groups: usize) -> [usize; 4] {
        match self {
            Self::Depthwise { channels, .. } => [kh, kw, 1, channels],
            Self::Grouped { cin_g, f_g } => [kh, kw, cin_g, f_g * groups],
            Self::FoldColumns { channels, filters } => [kh, 1, channels, filters],
        }
    }

    /// The bias of `filters` packed to match (padding filters get 0).
    pub fn bias(self, bias: &[f32], groups: usize) -> Vec<f32> {
        match self {
            Self::Depthwise { channels, .. } | Self::FoldColumns { filters: channels, .. } => {
                let mut out = vec![0.0; channels];
                out[..bias.len()].copy_from_slice(bias);
                out
            }
            Self::Grouped { f_g, .. } => {
                let fg_in = bias.len() / groups;
                let mut out = vec![0.0; f_g * groups];
                for g in 0..groups {
                    out[g * f_g..g * f_g + fg_in].copy_from_slice(&bias[g * fg_in..(g + 1) * fg_in]);
                }
                out
            }
        }
    }

    /// True when the packed output is already the layer's output (channels_last, no filter
    /// padding), so no unpack pass is needed.
    pub fn output_is_layer_output(self, g: &Conv2dGeometry) -> bool {
        g.data_format == DataFormat::ChannelsLast && self.geometry(g).filters == g.filters
    }

    /// True when the packed input is the layer's input itself (channels_last, channels per group
    /// already whole vec4s: only the filters are padded), so no pass has to copy it.
    pub fn input_is_layer_input(self, g: &Conv2dGeometry) -> bool {
        g.data_format == DataFormat::ChannelsLast
            && matches!(self, Self::Grouped { cin_g, .. } if cin_g == g.cin_per_group())
    }

    /// The pack pass for `chunk`: its program, uniform bytes, workgroups, packed elements.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] when a count does not fit the uniform.
    pub fn pack_step(self, g: &Conv2dGeometry, chunk: &Chunk) -> Result<PassStep> {
        // The channel mapping (its WGSL MODE): one group (0), groups (1), depthwise repetition (2).
        let (cin_g, cp, mult, mode) = match self {
            Self::Grouped { cin_g, .. } => (g.cin_per_group(), cin_g, 0, u32::from(g.groups > 1)),
            Self::Depthwise { mult, .. } => (1, 1, mult, 2),
            Self::FoldColumns { channels, .. } => return fold::pack_step(g, chunk, channels),
        };
        let hw = chunk.in_rows * g.in_w;
        let pixels = chunk.batch_len * hw;
        let c4 = self.geometry(g).in_c / 4;
        let channels_first = g.data_format == DataFormat::ChannelsFirst;
        // 4 pixels x 4 channels per invocation along channels_first planes of whole vec4s.
        let fast = channels_first && hw.is_multiple_of(4);
        let u = PackUniform {
            pixels: to_u32(pixels, "pixels")?,
            in_c: to_u32(g.in_c, "channels")?,
            c4: to_u32(c4, "packed channels")?,
            hw: to_u32(hw, "pixels per image")?,
            channels_first: u32::from(channels_first),
            cin_g: to_u32(cin_g, "channels per group")?,
            cp: to_u32(cp, "packed channels per group")?,
            mult: to_u32(mult, "depth multiplier")?,
            fast: u32::from(fast),
            _pad0: 0,
            _pad1: 0,
            _pad2: 0,
        };
        let vec4s = pixels.checked_mul(c4).ok_or(Error::SizeOverflow("packed input"))?;
        to_u32(vec4s, "packed input")?;
        let per_4_pixels = (pixels.div_ceil(4) * c4) as u64;
        let (program, groups): (&'static dyn Program, u64) = match (channels_first, fast) {
            (true, true) => (&PACK_PLANES, per_4_pixels.div_ceil(PLANES_WORKGROUP as u64)),
            (true, false) => (&PACK_PLANES_ANY, per_4_pixels.div_ceil(PLANES_WORKGROUP as u64)),
            (false, _) => (&PACK_INPUT, (vec4s as u64).div_ceil(WORKGROUP as u64)),
        };
        let variant = Variant::of(&[mode]);
        Ok((program, variant, bytes_of(&u).to_vec(), groups, vec4s * 4))
    }

    /// The unpack pass for `chunk`: its program, uniform bytes, workgroups, output elements.
    ///
    /// # Errors
    /// [`Error::SizeOverflow`] when a count does not fit the uniform.
    pub fn unpack_step(self, g: &Conv2dGeometry, chunk: &Chunk) -> Result<PassStep> {
        let packed = self.geometry(g);
        let hw = chunk.out_rows * g.out_w;
        let pixels = chunk.batch_len * hw;
        let (f_g, fgp) = match self {
            Self::Grouped { f_g, .. } => (g.filters_per_group(), f_g),
            Self::Depthwise { channels, .. } => (g.filters, channels),
            // One group.
            Self::FoldColumns { filters, .. } => (g.filters, filters),
        };
        let total = pixels.checked_mul(g.filters).ok_or(Error::SizeOverflow("output"))?;
        let channels_first = g.data_format == DataFormat::ChannelsFirst;
        // 4 pixels x 4 filters per invocation when every 4 filters are 4 consecutive packed ones.
        let contiguous = matches!(self, Self::Depthwise { .. }) || f_g.is_multiple_of(4);
        let fast = channels_first && hw.is_multiple_of(4) && contiguous;
        let u = UnpackUniform {
            pixels: to_u32(pixels, "pixels")?,
            filters: to_u32(g.filters, "filters")?,
            fp: to_u32(packed.filters, "packed filters")?,
            hw: to_u32(hw, "pixels per image")?,
            channels_first: u32::from(g.data_format == DataFormat::ChannelsFirst),
            f_g: to_u32(f_g, "filters per group")?,
            fgp: to_u32(fgp, "packed filters per group")?,
            total: to_u32(total, "output")?,
            fast: u32::from(fast),
            _pad0: 0,
            _pad1: 0,
            _pad2: 0,
        };
        let (program, variant, groups): (&'static dyn Program, _, u64) = if fast {
            let invocations = (pixels / 4) as u64 * (g.filters as u64).div_ceil(4);
            (
                &UNPACK_PLANES,
                Variant::NONE,
                invocations.div_ceil(PLANES_WORKGROUP as u64),
            )
        } else {
            let variant = Variant::of(&[u32::from(channels_first)]);
            (&UNPACK_OUTPUT, variant, (total as u64).div_ceil(WORKGROUP as u64))
        };
        Ok((program, variant, bytes_of(&u).to_vec(), groups, total))
    }

    /// A few words for logs (`channels_first, 3 -> 4 channels`).
    pub fn describe(self, g: &Conv2dGeometry) -> String {
        let packed = self.geometry(g);
        let mut parts = Vec::new();
        if g.data_format == DataFormat::ChannelsFirst {
            parts.push("NCHW<->NHWC".to_string());
        }
        if let Self::FoldColumns { channels, .. } = self {
            parts.push(format!(
                "{} kernel columns x {} channels folded into {channels}",
                g.kernel[1], g.in_c
            ));
        } else if packed.in_c != g.in_c {
            parts.push(format!("channels {}->{}", g.in_c, packed.in_c));
        }
        if packed.filters != g.filters {
            parts.push(format!("filters {}->{}", g.filters, packed.filters));
        }
        format!("packed ({}) + ", parts.join(", "))
    }
}
