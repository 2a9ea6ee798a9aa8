//! Bind-group reuse: a layer's passes keep their bind groups (and the uniform buffer each one
//! binds) keyed by binding shape, uniform contents and the ids of the buffers bound, so a repeated
//! call with pooled buffers creates and writes nothing. Pipelines of one shape share one explicit
//! layout, so a cached group is valid for every program of that shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::gpu::device::GpuContext;
use crate::gpu::memory::buffers;
use crate::gpu::program::BindingShape;

/// A buffer as bound: its id (the cache key) and the buffer.
#[derive(Clone, Copy)]
pub(crate) struct Bound<'a> {
    pub id: u64,
    pub buffer: &'a wgpu::Buffer,
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
                resource: b.buffer.as_entire_binding(),
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
