//! Buffer reuse: the buffers a call needs (input, output, intermediates, readback staging) come
//! from a per-context pool and go back to it when dropped, so a steady stream of calls allocates no
//! GPU memory after the first. Every buffer the crate binds carries an id, the key of the bind-group
//! cache (`binds.rs`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Ids for every buffer the crate creates; never reused, so a cached bind group naming a buffer
/// that was destroyed can never be looked up again.
static NEXT_BUFFER_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh buffer id.
pub(crate) fn next_id() -> u64 {
    NEXT_BUFFER_ID.fetch_add(1, Ordering::Relaxed)
}

/// Idle buffers kept for reuse, at most `cap` bytes of them; the oldest are destroyed first.
pub(crate) struct BufferPool {
    cap: u64,
    idle: Mutex<Idle>,
    created: AtomicU64,
    /// Traffic counters for [`crate::GpuStats`]: tensor buffer bytes handed out, written from
    /// the host and read back.
    pub(crate) acquired_bytes: AtomicU64,
    pub(crate) uploaded_bytes: AtomicU64,
    pub(crate) read_bytes: AtomicU64,
}

type Key = (u64, u32); // (bytes, usage bits)

#[derive(Default)]
struct Idle {
    by_key: HashMap<Key, Vec<(u64, wgpu::Buffer)>>,
    /// Release order, oldest first, for eviction (entries whose buffer was taken are skipped).
    order: VecDeque<(Key, u64)>,
    bytes: u64,
}

impl BufferPool {
    /// A pool keeping up to `cap` bytes of idle buffers.
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            cap,
            idle: Mutex::new(Idle::default()),
            created: AtomicU64::new(0),
            acquired_bytes: AtomicU64::new(0),
            uploaded_bytes: AtomicU64::new(0),
            read_bytes: AtomicU64::new(0),
        }
    }

    /// An idle buffer of exactly `size` bytes and `usage`, if one is kept.
    pub(crate) fn take(&self, size: u64, usage: wgpu::BufferUsages) -> Option<(u64, wgpu::Buffer)> {
        let mut idle = self.idle.lock().ok()?;
        let found = idle.by_key.get_mut(&(size, usage.bits()))?.pop()?;
        idle.bytes -= size;
        Some(found)
    }

    /// Counts a buffer the caller had to create (the pool had none to give).
    pub(crate) fn count_created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    /// Buffers created for calls since the context was made.
    pub(crate) fn created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// Bytes of idle buffers kept now.
    pub(crate) fn idle_bytes(&self) -> u64 {
        self.idle.lock().map_or(0, |i| i.bytes)
    }

    /// Takes a buffer back; destroys it (or the oldest idle ones) when the pool would exceed its cap.
    fn give_back(&self, id: u64, buffer: wgpu::Buffer) {
        let size = buffer.size();
        let key = (size, buffer.usage().bits());
        let Ok(mut idle) = self.idle.lock() else {
            buffer.destroy();
            return;
        };
        if size > self.cap {
            buffer.destroy();
            return;
        }
        while idle.bytes + size > self.cap {
            let Some((old_key, old_id)) = idle.order.pop_front() else {
                break;
            };
            let list = idle.by_key.entry(old_key).or_default();
            if let Some(at) = list.iter().position(|(i, _)| *i == old_id) {
                let (_, old) = list.swap_remove(at);
                idle.bytes -= old_key.0;
                old.destroy();
            }
        }
        idle.bytes += size;
        idle.order.push_back((key, id));
        idle.by_key.entry(key).or_default().push((id, buffer));
    }

    /// Destroys every idle buffer.
    pub(crate) fn clear(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            for (_, list) in idle.by_key.drain() {
                for (_, b) in list {
                    b.destroy();
                }
            }
            idle.order.clear();
            idle.bytes = 0;
        }
    }
}

/// A buffer on loan from a pool; it returns there when dropped.
pub(crate) struct PooledBuffer {
    id: u64,
    buffer: Option<wgpu::Buffer>,
    pool: Arc<BufferPool>,
}

impl PooledBuffer {
    pub(crate) fn new(id: u64, buffer: wgpu::Buffer, pool: Arc<BufferPool>) -> Self {
        Self {
            id,
            buffer: Some(buffer),
            pool,
        }
    }

    /// The bind-group cache key of this buffer.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Destroys the buffer instead of returning it (it may be left in a state the pool cannot reuse).
    pub(crate) fn discard(mut self) {
        if let Some(b) = self.buffer.take() {
            b.destroy();
        }
    }

    /// The wgpu buffer.
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("present until drop")
    }
}

impl std::fmt::Debug for PooledBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PooledBuffer({}, {} bytes)", self.id, self.buffer().size())
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            self.pool.give_back(self.id, b);
        }
    }
}
