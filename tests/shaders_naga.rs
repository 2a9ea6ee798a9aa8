//! Every shader variant parses and validates with naga (no GPU needed), and the uniform structs
//! have the size naga computes for their WGSL twins.

use wgpu_conv2d::gpu::depthwise_source::Taps;
use wgpu_conv2d::gpu::params::{ConvUniform, IgemmUniform, LastAxisUniform, PadUniform};
use wgpu_conv2d::gpu::pipelines::Kernel;
use wgpu_conv2d::gpu::planner::{Tile, MAX_TILE};

/// The module with this variant's override values written in as the defaults.
fn specialised(kernel: Kernel) -> String {
    let mut source = kernel.source();
    for (name, value) in kernel.constants() {
        let from = source
            .find(&format!("override {name}: u32 = "))
            .unwrap_or_else(|| panic!("no override {name}"));
        let end = from + source[from..].find(';').unwrap();
        source.replace_range(from..end, &format!("override {name}: u32 = {}u", value as u32));
    }
    source
}

fn validate(source: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::SUBGROUP)
        .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
        .subgroup_operations(naga::valid::SubgroupOperationSet::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    (module, info)
}

/// Every variant the planner can choose: direct tiles with filters 1..=4 and `columns = min(16 / filters, 4)`,
/// and the implicit GEMM with 1 or 2 vec4 columns per lane.
fn all_variants() -> Vec<Kernel> {
    let mut v: Vec<Kernel> = (1..=4)
        .map(|filters| {
            Kernel::ConvDirect(Tile {
                filters,
                columns: (MAX_TILE / filters).min(4),
            })
        })
        .collect();
    v.extend((1..=2).map(|cols| Kernel::Igemm {
        rows: wgpu_conv2d::gpu::planner::IGEMM_ROWS,
        cols,
    }));
    for lane_rows in [4, 8, 16] {
        v.extend((1..=4).map(|cols| Kernel::IgemmNarrow { lane_rows, cols }));
    }
    v.extend(
        [
            ([1, 1], [1, 1], [1, 1]),
            ([3, 3], [1, 1], [1, 1]),
            ([3, 3], [2, 2], [1, 1]),
            ([5, 5], [1, 1], [2, 2]),
            ([7, 7], [1, 1], [1, 1]),
            ([1, 7], [1, 2], [1, 1]),
        ]
        .into_iter()
        .flat_map(|(kernel, strides, dilation)| {
            let taps = Taps {
                kernel,
                strides,
                dilation,
            };
            [Kernel::DepthwiseTiled(taps), Kernel::GroupedTiled(taps)]
        }),
    );
    v.extend([
        Kernel::IgemmTiled,
        Kernel::Depthwise,
        Kernel::PadChannels,
        Kernel::LastAxis,
    ]);
    v
}

#[test]
fn every_shader_variant_validates() {
    for kernel in all_variants() {
        validate(&specialised(kernel));
    }
}

#[test]
fn uniform_structs_match_wgsl_layout() {
    let (module, _) = validate(&Kernel::LastAxis.source());
    let size_of = |name: &str| {
        module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .map(|(_, t)| t.inner.size(module.to_ctx()))
            .unwrap_or_else(|| panic!("no struct {name}"))
    };
    assert_eq!(size_of("ConvParams") as usize, std::mem::size_of::<ConvUniform>());
    assert_eq!(
        size_of("LastAxisParams") as usize,
        std::mem::size_of::<LastAxisUniform>()
    );
    assert_eq!(size_of("IgemmParams") as usize, std::mem::size_of::<IgemmUniform>());
    assert_eq!(size_of("PadParams") as usize, std::mem::size_of::<PadUniform>());
}
