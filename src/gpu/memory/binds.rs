//! Bind-group reuse: a layer's passes keep their bind groups (and the uniform buffer each one
//! binds) keyed by binding shape, uniform contents and the ids of the resources bound, so a repeated
//! call with pooled buffers creates and writes nothing. Pipelines of one shape share one explicit
//! layout, so a cached group is valid for every program of that shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::gpu::device::GpuContext;
use crate::gpu::memory::buffers;
use crate::gpu::program::BindingShape;

/// A resource as bound: its id (the cache key) and the buffer or texture.
#[derive(Clone, Copy)]
pub(crate) struct Bound<'a> {
    pub id: u64,
    pub resource: Resource<'a>,
}

/// What a binding holds: a storage buffer, or a texture (a kernel read with `textureLoad`).
#[derive(Clone, Copy)]
pub(crate) enum Resource<'a> {
    Buffer(&'a wgpu::Buffer),
    Texture(&'a wgpu::TextureView),
}

impl<'a> Bound<'a> {
    /// A buffer binding.
    pub(crate) fn buffer(id: u64, buffer: &'a wgpu::Buffer) -> Self {
        Self {
            id,
            resource: Resource::Buffer(buffer),
        }
    }

    /// The buffer, when this is a buffer binding.
    pub(crate) fn as_buffer(&self) -> Option<&'a wgpu::Buffer> {
        match self.resource {
            Resource::Buffer(b) => Some(b),
            Resource::Texture(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    shape: BindingShape,
    uniform: Vec<u8>,
    buffers: Vec<u64>,
}

struct Entry {
    /// Kept alive with the bind group that binds it.
    _uniform: wgpu::Buffer,
    bind: wgpu::BindGroup,
}

/// Entries kept per layer and device before the cache starts over: enough for a layer called with
/// a few shapes and a few live outputs at a time.
const CAPACITY: usize = 64;

/// One layer's bind groups on one device.
#[derive(Default)]
pub(crate) struct BindCache {
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
}

impl BindCache {
    /// The bind group of `shape` binding a uniform holding `uniform` at 0, then `buffers` at 1, 2, ...
    /// (the caller binds what `shape`'s slots say: a texture only where a slot is one).
    pub(crate) fn get(
        &self,
        ctx: &GpuContext,
        shape: BindingShape,
        uniform: &[u8],
        buffers: &[Bound<'_>],
    ) -> Result<wgpu::BindGroup> {
        let key = Key {
            shape,
            uniform: uniform.to_vec(),
            buffers: buffers.iter().map(|b| b.id).collect(),
        };
        if let Some(e) = self.entries.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(e.bind.clone());
        }
        let layout = ctx.layouts.get(&ctx.device, &ctx.liveness, shape)?;
        let uniform_buffer = buffers::uniform_bytes(ctx, "wgpu-conv2d params", uniform)?;
        let bind = ctx.scoped("creating a bind group", || {
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform_buffer.as_entire_binding(),
            }];
            entries.extend(buffers.iter().enumerate().map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: match b.resource {
                    Resource::Buffer(buffer) => buffer.as_entire_binding(),
                    Resource::Texture(view) => wgpu::BindingResource::TextureView(view),
                },
            }));
            ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("wgpu-conv2d"),
                layout: &layout.bind_group,
                entries: &entries,
            })
        })?;
        ctx.count_bind_group();
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(
                key,
                Arc::new(Entry {
                    _uniform: uniform_buffer,
                    bind: bind.clone(),
                }),
            );
        }
        Ok(bind)
    }
}
