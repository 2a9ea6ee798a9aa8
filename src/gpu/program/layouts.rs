//! The bind-group layouts programs share. Every program declares one binding shape; pipelines of
//! one shape share one explicit layout, so a bind group cached for one of them is valid for all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::device::scope::{scoped, Liveness};

/// Which resources a program binds, after the uniform at binding 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BindingShape {
    /// A convolution: input, weights and bias (read-only), output (read-write) at 1..=4.
    Conv,
    /// A convolution reading its weights from a texture: as [`BindingShape::Conv`], the weights
    /// at 2 an unfilterable-float 2-D texture (`texture_2d<f32>`, rgba32float).
    ConvTextureWeights,
    /// A pass over one tensor: source (read-only), destination (read-write) at 1..=2.
    Pass,
}

/// One binding after the uniform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A storage buffer.
    Storage {
        /// Bound read-only (else read-write).
        read_only: bool,
    },
    /// A 2-D float texture read with `textureLoad`.
    Texture,
}

impl BindingShape {
    /// The bindings 1, 2, ... in order.
    pub fn slots(self) -> &'static [Slot] {
        const RO: Slot = Slot::Storage { read_only: true };
        const RW: Slot = Slot::Storage { read_only: false };
        match self {
            Self::Conv => &[RO, RO, RO, RW],
            Self::ConvTextureWeights => &[RO, Slot::Texture, RO, RW],
            Self::Pass => &[RO, RW],
        }
    }

    /// Storage buffers the shape binds in the compute stage.
    pub fn storage_buffers(self) -> u32 {
        self.slots()
            .iter()
            .filter(|s| matches!(s, Slot::Storage { .. }))
            .count() as u32
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
            entries.extend(
                shape
                    .slots()
                    .iter()
                    .enumerate()
                    .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
                        binding: i as u32 + 1,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: match *slot {
                            Slot::Storage { read_only } => wgpu::BindingType::Buffer {
                                ty: wgpu::BufferBindingType::Storage { read_only },
                                has_dynamic_offset: false,
                                min_binding_size: None,
                            },
                            Slot::Texture => wgpu::BindingType::Texture {
                                sample_type: wgpu::TextureSampleType::Float { filterable: false },
                                view_dimension: wgpu::TextureViewDimension::D2,
                                multisampled: false,
                            },
                        },
                        count: None,
                    }),
            );
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
