//! Every program of the registry (and every pass), in every variant and element type (the first
//! variant also rounding to float16 and bfloat16), parses and validates with naga (no GPU needed); each uniform's host layout matches naga's layout of its
//! WGSL struct, field by field; and each algorithm's samples exercise every variant it lists.

use std::collections::HashSet;

use wgpu_conv2d::gpu::kernels::{self, Program};
use wgpu_conv2d::gpu::DeviceCaps;
use wgpu_conv2d::Conv2dGeometry;

/// The module with this variant's override values written in as the defaults.
fn specialised(
    program: &dyn Program,
    variant: &wgpu_conv2d::gpu::program::Variant,
    element: wgpu_conv2d::gpu::ElementType,
    round: wgpu_conv2d::FloatType,
) -> String {
    let mut source = program.source_of(&program.key(*variant, element).rounded(round));
    for (name, value) in program.constants(variant) {
        let from = source
            .find(&format!("override {name}: u32 = "))
            .unwrap_or_else(|| panic!("{}: no override {name}", program.name()));
        let end = from + source[from..].find(';').unwrap();
        source.replace_range(from..end, &format!("override {name}: u32 = {}u", value as u32));
    }
    source
}

fn validate(label: &str, source: &str) -> naga::Module {
    let module =
        naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{label}: {}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::SUBGROUP | naga::valid::Capabilities::SHADER_FLOAT16,
    )
    .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
    .subgroup_operations(naga::valid::SubgroupOperationSet::all())
    .validate(&module)
    .unwrap_or_else(|e| panic!("{label}: {}", e.emit_to_string(source)));
    module
}

#[test]
fn every_program_variant_validates() {
    let mut count = 0;
    // Every failure at once (the first per program and element type), not just the first.
    let mut failures = Vec::new();
    for program in kernels::programs() {
        for element in program.elements() {
            for variant in program.variants() {
                if !kernels::has_variant(program, &variant, *element) {
                    continue;
                }
                let label = format!(
                    "{} {} ({element})",
                    program.name(),
                    variant.describe(program.variant_params())
                );
                // Every variant unrounded; the first also rounding to each half type.
                use wgpu_conv2d::FloatType::{BFloat16, Float16, Float32};
                let rounds: &[_] = if variant == program.variants()[0] {
                    &[Float32, Float16, BFloat16]
                } else {
                    &[Float32]
                };
                let failed = rounds.iter().find_map(|r| {
                    let source = specialised(program, &variant, *element, *r);
                    let label = format!("{label} rounding to {}", r.name());
                    std::panic::catch_unwind(|| validate(&label, &source)).err()
                });
                if let Some(e) = failed {
                    failures.push(e.downcast_ref::<String>().cloned().unwrap_or(label));
                    break;
                }
                count += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= kernels::programs().len(), "validated {count} variants");
}

#[test]
fn uniform_layouts_match_naga() {
    for program in kernels::programs() {
        let layout = program.uniform_layout();
        let variant = program.variants()[0];
        let module = validate(
            program.name(),
            &specialised(
                program,
                &variant,
                program.elements()[0],
                wgpu_conv2d::FloatType::Float32,
            ),
        );
        let (_, ty) = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(layout.wgsl_struct))
            .unwrap_or_else(|| panic!("{}: no struct {}", program.name(), layout.wgsl_struct));
        assert_eq!(
            ty.inner.size(module.to_ctx()) as usize,
            layout.size,
            "{}",
            layout.wgsl_struct
        );
        let naga::TypeInner::Struct { members, .. } = &ty.inner else {
            panic!("{} is not a struct", layout.wgsl_struct)
        };
        let naga_fields: Vec<(String, usize)> = members
            .iter()
            .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize))
            .collect();
        let host: Vec<(String, usize)> = layout.fields.iter().map(|(n, o)| (n.to_string(), *o)).collect();
        assert_eq!(naga_fields, host, "{}: fields and offsets", layout.wgsl_struct);
        // The program binds the uniform it declares.
        let source = program.source(&variant, program.elements()[0]);
        assert!(
            source.contains(&format!("var<uniform> p: {}", layout.wgsl_struct))
                || source.contains(&format!("var<uniform> q: {}", layout.wgsl_struct)),
            "{} does not bind {}",
            program.name(),
            layout.wgsl_struct
        );
    }
}

/// Every variant an algorithm lists is what it chooses for one of its samples, and what it chooses
/// for each sample is a variant it lists: the GPU sweep (`registry_sweep.rs`) then runs them all.
#[test]
fn samples_cover_every_variant() {
    let caps = DeviceCaps {
        subgroup8: true,
        software: true,
        // WebGPU's default workgroup memory (downlevel's is 16352), so every tile is offered.
        max_workgroup_storage: 16384,
        ..DeviceCaps::with_limits(128 << 20, 256 << 20, 65535)
    };
    for algorithm in kernels::registry() {
        let listed: HashSet<_> = algorithm.variants().into_iter().collect();
        let mut chosen = HashSet::new();
        for sample in algorithm.samples() {
            let layer = Conv2dGeometry::new(&sample.params, sample.input_shape)
                .unwrap_or_else(|e| panic!("{}: sample {sample:?}: {e}", algorithm.name()));
            // Layers the vec4 kernels cannot read as they are run packed.
            let (_, g) = kernels::run_geometry(*algorithm, &layer);
            assert!(
                algorithm.supports(&g, &caps, wgpu_conv2d::gpu::ElementType::F32),
                "{} declines its own sample {sample:?}",
                algorithm.name()
            );
            // The variant the planner runs (it also decides the output layout).
            let (packing, _) = kernels::run_geometry(*algorithm, &layer);
            let epilogue = kernels::Epilogue::new(wgpu_conv2d::Activation::Linear, true);
            let plan = wgpu_conv2d::gpu::plan::plan_with(
                *algorithm,
                &layer,
                packing,
                &caps,
                wgpu_conv2d::gpu::ElementType::F32,
                epilogue,
            )
            .unwrap();
            let v = plan.variant;
            assert!(listed.contains(&v), "{}: {v:?} is not listed", algorithm.name());
            chosen.insert(v);
        }
        assert_eq!(chosen, listed, "{}: variants no sample exercises", algorithm.name());
    }
}
