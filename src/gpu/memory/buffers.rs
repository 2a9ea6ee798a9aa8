//! Buffers: uploads and readbacks inside error scopes, with bounded waits.

use std::sync::mpsc;

use crate::error::{Error, GpuSource, Result};
use crate::gpu::device::{Fault, GpuContext};
use crate::gpu::memory::pool::{self, PooledBuffer};
use crate::gpu::program::ElementType;

/// The test hook for an out-of-memory on buffer creation.
fn injected_oom(ctx: &GpuContext, label: &str) -> Result<()> {
    if ctx.faults.take(Fault::OutOfMemory) {
        return Err(Error::OutOfMemory {
            operation: format!("creating {label}"),
            source: GpuSource::message("injected fault"),
        });
    }
    Ok(())
}

/// `bytes` padded with zeros to whole 4-byte words: queue writes move words (2-byte elements
/// can leave an odd half word), and every buffer is allocated in whole vec4s, so the pad fits.
fn padded(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if bytes.len().is_multiple_of(4) {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = bytes.to_vec();
    out.resize(bytes.len().next_multiple_of(4), 0);
    std::borrow::Cow::Owned(out)
}

/// A buffer holding `bytes`, written through the queue (wgpu's `create_buffer_init` unwraps a
/// mapping and panics on a lost device).
fn init(ctx: &GpuContext, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> Result<wgpu::Buffer> {
    injected_oom(ctx, label)?;
    ctx.scoped("creating a buffer", || {
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (bytes.len() as u64).max(16).next_multiple_of(16),
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue.write_buffer(&buffer, 0, &padded(bytes));
        buffer
    })
}

/// A storage buffer holding `data` stored as `element`, owned by the caller (weights).
pub(crate) fn upload(ctx: &GpuContext, label: &str, element: ElementType, data: &[f32]) -> Result<wgpu::Buffer> {
    init(ctx, label, &element.encode(data), wgpu::BufferUsages::STORAGE)
}

/// An rgba32float texture of `width` × `height` texels holding `data` row by row (4 floats a
/// texel), owned by the caller (a kernel read with `textureLoad`), and its view.
pub(crate) fn upload_texture(
    ctx: &GpuContext,
    label: &str,
    data: &[f32],
    (width, height): (u32, u32),
) -> Result<(wgpu::Texture, wgpu::TextureView)> {
    injected_oom(ctx, label)?;
    if data.len() as u64 != 4 * width as u64 * height as u64 || width == 0 || height == 0 {
        return Err(Error::Unsupported(format!(
            "internal: {} values for a {width} x {height} texture",
            data.len()
        )));
    }
    let size = wgpu::Extent3d {
        width,
        height,
        depth_or_array_layers: 1,
    };
    ctx.scoped("creating a texture", || {
        let texture = ctx.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba32Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        ctx.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            bytemuck::cast_slice(data),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(16 * width),
                rows_per_image: Some(height),
            },
            size,
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        (texture, view)
    })
}

/// A uniform buffer holding `bytes` (made once per cached bind group).
pub(crate) fn uniform_bytes(ctx: &GpuContext, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer> {
    init(ctx, label, bytes, wgpu::BufferUsages::UNIFORM)
}

/// A buffer of `bytes` bytes (rounded up to 4) and `usage` from the context's pool, created when
/// the pool has none.
pub(crate) fn acquire(ctx: &GpuContext, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> Result<PooledBuffer> {
    injected_oom(ctx, label)?;
    // Whole vec4s: the passes read tensors as `array<vec4>`, and a partial trailing vec4 would be
    // out of bounds (clamped) there.
    let size = bytes.max(16).next_multiple_of(16);
    if usage.contains(wgpu::BufferUsages::STORAGE) {
        ctx.pool
            .acquired_bytes
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some((id, buffer)) = ctx.pool.take(size, usage) {
        return Ok(PooledBuffer::new(id, buffer, ctx.pool.clone()));
    }
    let buffer = ctx.scoped("creating a buffer", || {
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

fn tensor_bytes(element: ElementType, len: usize) -> Result<u64> {
    element.bytes_of(len).ok_or(Error::SizeOverflow("buffer size"))
}

/// A pooled storage buffer holding `data` stored as `element` (an input).
pub(crate) fn upload_pooled(ctx: &GpuContext, label: &str, element: ElementType, data: &[f32]) -> Result<PooledBuffer> {
    let buffer = acquire(ctx, label, tensor_bytes(element, data.len())?, TENSOR_USAGE)?;
    let bytes = element.encode(data);
    ctx.pool
        .uploaded_bytes
        .fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
    ctx.scoped("writing a buffer", || {
        ctx.queue.write_buffer(buffer.buffer(), 0, &padded(&bytes))
    })?;
    Ok(buffer)
}

/// A pooled output buffer of `len` elements, NaN-filled when the context asks for it.
pub(crate) fn output(ctx: &GpuContext, label: &str, element: ElementType, len: usize) -> Result<PooledBuffer> {
    let buffer = acquire(ctx, label, tensor_bytes(element, len)?, TENSOR_USAGE)?;
    if ctx.nan_fill_outputs.load(std::sync::atomic::Ordering::Relaxed) {
        let nan = vec![f32::NAN; len.max(1)];
        let bytes = element.encode(&nan);
        ctx.scoped("writing a buffer", || {
            ctx.queue.write_buffer(buffer.buffer(), 0, &padded(&bytes))
        })?;
    }
    Ok(buffer)
}

/// A command encoder labelled `label`, created in the context's error scopes.
pub(crate) fn encoder(ctx: &GpuContext, label: &str) -> Result<wgpu::CommandEncoder> {
    ctx.scoped("creating a command encoder", || {
        ctx.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    })
}

/// Submits `encoder` (with no readback) and returns at once; the queue orders later work after it.
pub(crate) fn submit(ctx: &GpuContext, encoder: wgpu::CommandEncoder) -> Result<()> {
    ctx.scoped("submitting work", || {
        ctx.queue.submit([encoder.finish()]);
    })
}

/// Submits `encoder` after copying `len` elements of `source` into a staging buffer, waits
/// (bounded by the context's timeout) and returns them as f32.
pub(crate) fn submit_and_read(
    ctx: &GpuContext,
    mut encoder: wgpu::CommandEncoder,
    source: &wgpu::Buffer,
    element: ElementType,
    len: usize,
) -> Result<Vec<f32>> {
    let size = tensor_bytes(element, len)?;
    ctx.pool
        .read_bytes
        .fetch_add(size, std::sync::atomic::Ordering::Relaxed);
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
    let submission = ctx.scoped("submitting work and its readback", || {
        // Whole words (2-byte elements can end mid-word); both buffers hold whole vec4s.
        encoder.copy_buffer_to_buffer(source, 0, &staging_buf, 0, size.next_multiple_of(4));
        let index = ctx.queue.submit([encoder.finish()]);
        staging_buf.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = sender.send(r);
        });
        index
    })?;
    ctx.wait(Some(submission), "running the work and its readback")?;
    match receiver.recv_timeout(ctx.timeout) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(if ctx.is_lost() {
                ctx.liveness.lost_error(Some(GpuSource::new(e)))
            } else {
                Error::Validation {
                    operation: "mapping the readback buffer".into(),
                    source: GpuSource::new(e),
                }
            })
        }
        Err(_) => {
            return Err(Error::Timeout {
                operation: "mapping the readback buffer".into(),
                waited: ctx.timeout,
            })
        }
    }
    let values = {
        let view = staging_buf
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Validation {
                operation: "reading the readback buffer".into(),
                source: GpuSource::new(e),
            })?;
        // The staging buffer is rounded up to whole vec4s: only `size` bytes are the tensor's.
        element.decode(&view[..size as usize])
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
