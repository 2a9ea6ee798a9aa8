//! Buffers: uploads and readbacks inside error scopes, with bounded waits.

use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::gpu::context::GpuContext;
use crate::gpu::pool::{self, PooledBuffer};

/// Runs `f` inside validation and out-of-memory error scopes and turns what they caught into errors.
pub(crate) fn scoped<T>(ctx: &GpuContext, f: impl FnOnce() -> T) -> Result<T> {
    ctx.check_alive()?;
    let oom = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = f();
    let validation = pollster::block_on(validation.pop());
    let oom = pollster::block_on(oom.pop());
    if let Some(e) = oom {
        return Err(Error::OutOfMemory(e.to_string()));
    }
    if let Some(e) = validation {
        return Err(if ctx.is_lost() {
            Error::DeviceLost(e.to_string())
        } else {
            Error::Gpu(e.to_string())
        });
    }
    ctx.check_alive()?;
    Ok(value)
}

/// The test hook for an out-of-memory on buffer creation.
fn injected_oom(ctx: &GpuContext, label: &str) -> Result<()> {
    if ctx.take_fault(crate::gpu::context::Fault::OutOfMemory) {
        return Err(Error::OutOfMemory(format!("creating {label} (injected fault)")));
    }
    Ok(())
}

/// A buffer holding `bytes`, written through the queue (wgpu's `create_buffer_init` unwraps a
/// mapping and panics on a lost device).
fn init(ctx: &GpuContext, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
    injected_oom(ctx, label)?;
    scoped(ctx, || {
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (bytes.len() as u64).max(4).next_multiple_of(4),
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue.write_buffer(&buffer, 0, bytes);
        buffer
    })
}

/// A storage buffer holding `data`, owned by the caller (weights).
pub(crate) fn upload(ctx: &GpuContext, label: &str, data: &[f32], extra: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
    init(
        ctx,
        label,
        bytemuck::cast_slice(data),
        wgpu::BufferUsages::STORAGE | extra,
    )
}

/// A uniform buffer holding `bytes` (made once per cached bind group).
pub(crate) fn uniform_bytes(ctx: &GpuContext, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer> {
    init(ctx, label, bytes, wgpu::BufferUsages::UNIFORM)
}

/// A buffer of `bytes` bytes (rounded up to 4) and `usage` from the context's pool, created when
/// the pool has none.
pub(crate) fn acquire(ctx: &GpuContext, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> Result<PooledBuffer> {
    injected_oom(ctx, label)?;
    let size = bytes.max(4).next_multiple_of(4);
    if let Some((id, buffer)) = ctx.pool.take(size, usage) {
        return Ok(PooledBuffer::new(id, buffer, ctx.pool.clone()));
    }
    let buffer = scoped(ctx, || {
        ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage,
            mapped_at_creation: false,
        })
    })?;
    ctx.pool.count_created();
    Ok(PooledBuffer::new(pool::next_id(), buffer, ctx.pool.clone()))
}

const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// A pooled storage buffer holding `data` (an input).
pub(crate) fn upload_pooled(ctx: &GpuContext, label: &str, data: &[f32]) -> Result<PooledBuffer> {
    let buffer = acquire(ctx, label, data.len() as u64 * 4, TENSOR_USAGE)?;
    scoped(ctx, || {
        ctx.queue.write_buffer(buffer.buffer(), 0, bytemuck::cast_slice(data))
    })?;
    Ok(buffer)
}

/// A pooled output buffer of `len` floats, NaN-filled when the context asks for it.
pub(crate) fn output(ctx: &GpuContext, label: &str, len: usize) -> Result<PooledBuffer> {
    let buffer = acquire(ctx, label, len as u64 * 4, TENSOR_USAGE)?;
    if ctx.nan_fill_outputs.load(std::sync::atomic::Ordering::Relaxed) {
        let nan = vec![f32::NAN; len.max(1)];
        scoped(ctx, || {
            ctx.queue.write_buffer(buffer.buffer(), 0, bytemuck::cast_slice(&nan))
        })?;
    }
    Ok(buffer)
}

/// Submits `encoder` (with no readback) and returns at once; the queue orders later work after it.
pub(crate) fn submit(ctx: &GpuContext, encoder: wgpu::CommandEncoder) -> Result<()> {
    scoped(ctx, || {
        ctx.queue.submit([encoder.finish()]);
    })
}

/// Submits `encoder` after copying `len` floats of `source` into a staging buffer, waits (bounded
/// by the context's timeout) and returns them.
pub(crate) fn submit_and_read(
    ctx: &GpuContext,
    mut encoder: wgpu::CommandEncoder,
    source: &wgpu::Buffer,
    len: usize,
) -> Result<Vec<f32>> {
    let size = (len * 4) as u64;
    let staging = acquire(
        ctx,
        "wgpu-conv2d readback",
        size,
        wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
    )?;
    // A staging buffer left mapped or mid-map by a failure must not go back to the pool.
    let mut staging = StagingGuard(Some(staging));
    let staging_buf = staging.buffer().clone();
    let (sender, receiver) = mpsc::channel();
    let submission = scoped(ctx, || {
        encoder.copy_buffer_to_buffer(source, 0, &staging_buf, 0, size);
        let index = ctx.queue.submit([encoder.finish()]);
        staging_buf.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = sender.send(r);
        });
        index
    })?;
    let waited = ctx.device.poll(wgpu::PollType::Wait {
        submission_index: Some(submission),
        timeout: Some(ctx.timeout),
    });
    match waited {
        Ok(_) => {}
        Err(wgpu::PollError::Timeout) => {
            return Err(Error::Timeout(format!(
                "the GPU did not finish within {:?}",
                ctx.timeout
            )))
        }
        Err(e) => return Err(Error::Gpu(e.to_string())),
    }
    ctx.check_alive()?;
    match receiver.recv_timeout(ctx.timeout) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(if ctx.is_lost() {
                Error::DeviceLost(e.to_string())
            } else {
                Error::Gpu(e.to_string())
            })
        }
        Err(_) => return Err(Error::Timeout("the readback mapping never completed".into())),
    }
    let values = {
        let view = staging_buf
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Gpu(e.to_string()))?;
        bytemuck::cast_slice::<u8, f32>(&view).to_vec()
    };
    staging_buf.unmap();
    staging.release();
    Ok(values)
}

/// Holds a pooled staging buffer: destroyed on drop unless `release` hands it back to the pool.
struct StagingGuard(Option<PooledBuffer>);

impl StagingGuard {
    fn buffer(&self) -> &wgpu::Buffer {
        self.0.as_ref().expect("present until released").buffer()
    }

    fn release(&mut self) {
        self.0.take(); // dropping the PooledBuffer returns it to the pool
    }
}

impl Drop for StagingGuard {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            b.discard();
        }
    }
}
