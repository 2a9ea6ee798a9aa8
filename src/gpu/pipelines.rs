//! WGSL sources, one kernel per file, assembled with the shared parts and compiled once per variant.

use crate::error::{Error, Result};
use crate::gpu::buffers::scoped;
use crate::gpu::context::GpuContext;
use crate::gpu::depthwise_source::{self, Taps};
use crate::gpu::planner::Tile;
use crate::gpu::{igemm_source, narrow_source};

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const ACTIVATION: &str = include_str!("../../shaders/activation.wgsl");
const CONV_DIRECT: &str = include_str!("../../shaders/conv_direct.wgsl");
const LAST_AXIS: &str = include_str!("../../shaders/last_axis.wgsl");
const DEPTHWISE: &str = include_str!("../../shaders/conv_depthwise.wgsl");
const IGEMM_TILED: &str = include_str!("../../shaders/conv_igemm_tiled.wgsl");
const PAD_CHANNELS: &str = include_str!("../../shaders/pad_channels.wgsl");

/// A kernel and its override values: everything a pipeline depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `conv_direct.wgsl` with a tile.
    ConvDirect(Tile),
    /// The generated implicit GEMM (`igemm_source.rs`) for a register tile.
    Igemm {
        /// Output pixels per workgroup.
        rows: u32,
        /// vec4 filter columns per lane.
        cols: u32,
    },
    /// The generated narrow implicit GEMM (`narrow_source.rs`).
    IgemmNarrow {
        /// Output pixels per lane.
        lane_rows: u32,
        /// vec4 columns (filters per group / 4).
        cols: u32,
    },
    /// `conv_igemm_tiled.wgsl`.
    IgemmTiled,
    /// `conv_depthwise.wgsl`.
    Depthwise,
    /// The generated tiled depthwise kernel (`depthwise_source.rs`).
    DepthwiseTiled(Taps),
    /// The generated tiled kernel for groups of 4 filters (`depthwise_source::grouped_body`).
    GroupedTiled(Taps),
    /// `pad_channels.wgsl`.
    PadChannels,
    /// `last_axis.wgsl`.
    LastAxis,
}

impl Kernel {
    /// The WGSL module text: shared structs and activation math, then the kernel's own file.
    pub fn source(self) -> String {
        let body = match self {
            Self::ConvDirect(_) => CONV_DIRECT.to_string(),
            Self::Igemm { rows, cols } => igemm_source::body(rows, cols),
            Self::IgemmNarrow { lane_rows, cols } => narrow_source::body(lane_rows, cols),
            Self::IgemmTiled => IGEMM_TILED.to_string(),
            Self::Depthwise => DEPTHWISE.to_string(),
            Self::DepthwiseTiled(t) => depthwise_source::body(t),
            Self::GroupedTiled(t) => depthwise_source::grouped_body(t),
            Self::PadChannels => PAD_CHANNELS.to_string(),
            Self::LastAxis => LAST_AXIS.to_string(),
        };
        format!("{COMMON}\n{ACTIVATION}\n{body}")
    }

    /// The override constants of this variant.
    pub fn constants(self) -> Vec<(&'static str, f64)> {
        match self {
            Self::ConvDirect(t) => vec![("TILE_F", t.filters as f64), ("TILE_X", t.columns as f64)],
            _ => Vec::new(),
        }
    }

    /// True when the kernel needs `Features::SUBGROUP`.
    pub fn needs_subgroups(self) -> bool {
        matches!(self, Self::Igemm { .. } | Self::IgemmNarrow { .. })
    }

    fn label(self) -> &'static str {
        match self {
            Self::ConvDirect(_) => "conv_direct",
            Self::Igemm { .. } => "conv_igemm_subgroup",
            Self::IgemmNarrow { .. } => "conv_igemm_narrow",
            Self::IgemmTiled => "conv_igemm_tiled",
            Self::Depthwise => "conv_depthwise",
            Self::DepthwiseTiled(_) => "conv_depthwise_tiled",
            Self::GroupedTiled(_) => "conv_grouped_tiled",
            Self::PadChannels => "pad_channels",
            Self::LastAxis => "last_axis",
        }
    }
}

/// Compiles a kernel variant inside an error scope.
pub(crate) fn create(ctx: &GpuContext, kernel: Kernel) -> Result<wgpu::ComputePipeline> {
    let source = kernel.source();
    let constants = kernel.constants();
    scoped(ctx, || {
        let module = ctx.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(kernel.label()),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        ctx.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.label()),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: true,
            },
            cache: None,
        })
    })
    .map_err(|e| match e {
        Error::Gpu(m) => Error::Gpu(format!("compiling {}: {m}", kernel.label())),
        other => other,
    })
}
