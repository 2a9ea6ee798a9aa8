//! The bind-group layouts programs share. Every program declares one binding shape; pipelines of
//! one shape share one explicit layout, so a bind group cached for one of them is valid for all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::device::scope::{scoped, Liveness};

/// Which buffers a program binds, after the uniform at binding 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingShape {
    /// A convolution: input, weights and bias (read-only), output (read-write) at 1..=4.
    Conv,
    /// A pass over one tensor: source (read-only), destination (read-write) at 1..=2.
    Pass,
}

impl BindingShape {
    /// For each storage binding (1, 2, ...), whether it is read-only.
    pub fn storage_read_only(self) -> &'static [bool] {
        match self {
            Self::Conv => &[true, true, true, false],
            Self::Pass => &[true, false],
        }
    }

    /// Storage buffers the shape binds in the compute stage.
    pub fn storage_buffers(self) -> u32 {
        self.storage_read_only().len() as u32
    }
}

/// One shape's bind-group layout and the pipeline layout made of it.
pub(crate) struct Layout {
    pub bind_group: wgpu::BindGroupLayout,
    pub pipeline: wgpu::PipelineLayout,
}

/// A device's layouts, created on first use (inside an error scope, after a limit check).
#[derive(Default)]
pub(crate) struct Layouts {
    made: Mutex<HashMap<BindingShape, Arc<Layout>>>,
}

impl Layouts {
    /// The layout of `shape` on `device`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the device binds fewer storage buffers per stage than the
    /// shape needs; the scope's errors.
    pub(crate) fn get(&self, device: &wgpu::Device, liveness: &Liveness, shape: BindingShape) -> Result<Arc<Layout>> {
        let mut made = self
            .made
            .lock()
            .map_err(|_| Error::PoisonedLock("the bind-group layouts"))?;
        if let Some(l) = made.get(&shape) {
            return Ok(l.clone());
        }
        let limit = device.limits().max_storage_buffers_per_shader_stage;
        if limit < shape.storage_buffers() {
            return Err(Error::Unsupported(format!(
                "the device binds {limit} storage buffers per shader stage; the kernels need {}",
                shape.storage_buffers()
            )));
        }
        let layout = scoped(device, liveness, "creating a bind-group layout", || {
            let mut entries = vec![wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }];
            entries.extend(shape.storage_read_only().iter().enumerate().map(|(i, &read_only)| {
                wgpu::BindGroupLayoutEntry {
                    binding: i as u32 + 1,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage { read_only },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                }
            }));
            let bind_group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("wgpu-conv2d bindings"),
                entries: &entries,
            });
            let pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("wgpu-conv2d pipeline layout"),
                bind_group_layouts: &[Some(&bind_group)],
                immediate_size: 0,
            });
            Layout { bind_group, pipeline }
        })?;
        let layout = Arc::new(layout);
        made.insert(shape, layout.clone());
        Ok(layout)
    }
}
