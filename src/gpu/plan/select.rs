//! Choosing the algorithm: the registry walked in priority order, filtered by the context's
//! kernel family or explicit list, each algorithm asked whether it supports the geometry.

use crate::conv::Conv2dGeometry;
use crate::gpu::device::{AlgorithmFilter, DeviceCaps, KernelFamily};
use crate::gpu::kernels::{direct, registry, run_geometry, Algorithm, Family};
use crate::gpu::program::ElementType;

/// True when `filter` lets the planner consider `algorithm` on a device with `caps`. Under `Auto`
/// the subgroup-broadcast GEMMs are for software adapters and the workgroup-tiled GEMM for
/// hardware GPUs: software adapters reward few loads per FLOP and punish workgroup memory (every
/// access a per-lane loop, barriers switching coroutines); hardware GPUs want workgroup tiles.
pub fn admits(filter: &AlgorithmFilter, algorithm: &dyn Algorithm, caps: &DeviceCaps) -> bool {
    if let Some(only) = &filter.only {
        return only.contains(&algorithm.id());
    }
    match (filter.family, algorithm.family()) {
        (_, Family::Any) => true,
        (KernelFamily::Auto, Family::SubgroupBroadcast) => caps.software,
        (KernelFamily::Auto, Family::WorkgroupTiles) => !caps.software,
        (KernelFamily::SubgroupBroadcast, family) => family == Family::SubgroupBroadcast,
        (KernelFamily::WorkgroupTiles, family) => family == Family::WorkgroupTiles,
        (KernelFamily::Direct, _) => false,
    }
}

/// The first admitted algorithm that supports the geometry it would run for the layer `g` (`g`
/// packed for the vec4 kernels, or `g` itself for one that reads any layout) and, unless the
/// filter lists algorithms, is preferred by the rules there; the direct kernel when none does.
pub fn choose(
    g: &Conv2dGeometry,
    caps: &DeviceCaps,
    filter: &AlgorithmFilter,
    element: ElementType,
) -> &'static dyn Algorithm {
    registry()
        .iter()
        .copied()
        .find(|a| {
            admits(filter, *a, caps) && a.elements().contains(&element) && {
                let run = run_geometry(*a, g).1;
                a.supports(&run, caps, element) && (filter.only.is_some() || a.preferred_by_rules(&run))
            }
        })
        .unwrap_or(&direct::DIRECT)
}
