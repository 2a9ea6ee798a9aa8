//! Compiled pipelines, one per [`ProgramKey`], compiled on first use inside an error scope,
//! through the persistent pipeline cache where the context has one (saved at most every 2 s while
//! compiling, and when the context goes).
//! The cache is handed the device and the layouts; it knows nothing else of the context.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::device::pipeline_store::PipelineStore;
use crate::gpu::device::scope::{scoped, Liveness};
use crate::gpu::program::layouts::Layout;
use crate::gpu::program::ProgramKey;

/// The source and override constants of one program variant.
pub(crate) struct CompileInput {
    pub source: String,
    pub constants: Vec<(&'static str, f64)>,
}

#[derive(Default)]
pub(crate) struct PipelineCache {
    pipelines: Mutex<HashMap<ProgramKey, Arc<wgpu::ComputePipeline>>>,
}

impl PipelineCache {
    /// The pipeline of `key`, compiled from `input()` with `layout` when missing.
    ///
    /// # Errors
    /// [`Error::ShaderCompile`] naming the program; [`Error::PoisonedLock`]; the scope's errors.
    pub(crate) fn get(
        &self,
        (device, disk): (&wgpu::Device, Option<&PipelineStore>),
        liveness: &Liveness,
        layout: &Layout,
        key: ProgramKey,
        input: impl FnOnce() -> CompileInput,
    ) -> Result<Arc<wgpu::ComputePipeline>> {
        let poisoned = || Error::PoisonedLock("the pipeline cache");
        if let Some(p) = self.pipelines.lock().map_err(|_| poisoned())?.get(&key) {
            return Ok(p.clone());
        }
        let CompileInput { source, constants } = input();
        let label = key.to_string();
        let pipeline = scoped(device, liveness, "compiling a pipeline", || {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(&layout.pipeline),
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &constants,
                    zero_initialize_workgroup_memory: true,
                },
                cache: disk.map(|d| &d.cache),
            })
        })
        .map_err(|e| match e {
            Error::Validation { source, .. } => Error::ShaderCompile {
                program: label.clone(),
                source,
            },
            other => other,
        })?;
        if let Some(disk) = disk {
            disk.compiled();
        }
        // Two threads may have compiled the same variant: everyone keeps the first one.
        Ok(self
            .pipelines
            .lock()
            .map_err(|_| poisoned())?
            .entry(key)
            .or_insert_with(|| Arc::new(pipeline))
            .clone())
    }

    /// Pipelines compiled so far.
    pub(crate) fn len(&self) -> usize {
        self.pipelines.lock().map_or(0, |p| p.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::program::{BindingShape, ElementType, Variant};
    use crate::gpu::{GpuContext, GpuOptions};

    /// WGSL that does not compile is a typed error naming the program, with naga's message.
    #[test]
    fn a_broken_program_is_a_shader_compile_error() {
        let ctx = match GpuContext::new(&GpuOptions::default()) {
            Ok(ctx) => ctx,
            Err(e) if std::env::var_os("CI").is_some() => panic!("GPU tests need an adapter in CI: {e}"),
            Err(_) => return,
        };
        let layout = ctx.layouts.get(&ctx.device, &ctx.liveness, BindingShape::Pass).unwrap();
        let key = ProgramKey {
            program: "broken",
            variant: Variant::of(&[3]),
            element: ElementType::F32,
            round: crate::keras::dtype::FloatType::Float32,
        };
        let err = ctx
            .pipelines
            .get((&ctx.device, None), &ctx.liveness, &layout, key, || CompileInput {
                source: "@compute @workgroup_size(1) fn main() { let x: u32 = undefined_name; }".into(),
                constants: Vec::new(),
            })
            .unwrap_err();
        match &err {
            Error::ShaderCompile { program, source } => {
                assert_eq!(program, "broken_3 (f32)");
                assert!(source.to_string().contains("undefined_name"), "{source}");
            }
            other => panic!("expected ShaderCompile, got {other:?}"),
        }
        assert_eq!(ctx.pipeline_count(), 0, "a failed compile is not cached");
        assert_eq!(ctx.uncaptured_errors(), 0);
    }
}
