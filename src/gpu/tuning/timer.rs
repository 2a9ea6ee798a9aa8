//! GPU timestamps around one call, where the device has `TIMESTAMP_QUERY` and
//! `TIMESTAMP_QUERY_INSIDE_ENCODERS`: a timestamp written by a submission before the call's own
//! and one after it (the queue runs submissions in order), resolved and read back. The tuner
//! falls back to a synchronised wall clock where the device has neither, or a reading is unusable.

use std::sync::mpsc;

use crate::error::{Error, GpuSource, Result};
use crate::gpu::device::GpuContext;

/// The features the timer needs.
pub const FEATURES: wgpu::Features =
    wgpu::Features::TIMESTAMP_QUERY.union(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS);

/// A query set of two timestamps and the buffers that read them back.
pub(crate) struct GpuTimer {
    set: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    read: wgpu::Buffer,
    period_ns: f64,
}

impl GpuTimer {
    /// The timer of `ctx`, or `None` where the device lacks the features.
    pub(crate) fn new(ctx: &GpuContext) -> Option<Self> {
        if !ctx.device.features().contains(FEATURES) {
            return None;
        }
        let period_ns = f64::from(ctx.queue.get_timestamp_period());
        if period_ns <= 0.0 || !period_ns.is_finite() {
            return None;
        }
        let made = ctx.scoped("creating the tuning timer", || {
            let set = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("wgpu-conv2d tuning timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            });
            let buffer = |usage| {
                ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("wgpu-conv2d tuning timestamps"),
                    size: 16,
                    usage,
                    mapped_at_creation: false,
                })
            };
            let resolved = buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
            let read = buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
            (set, resolved, read)
        });
        let (set, resolved, read) = made.ok()?;
        Some(Self {
            set,
            resolved,
            read,
            period_ns,
        })
    }

    fn stamp(&self, ctx: &GpuContext, index: u32, resolve: bool) -> Result<wgpu::SubmissionIndex> {
        ctx.scoped("writing a tuning timestamp", || {
            let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-conv2d timestamp"),
            });
            encoder.write_timestamp(&self.set, index);
            if resolve {
                encoder.resolve_query_set(&self.set, 0..2, &self.resolved, 0);
                encoder.copy_buffer_to_buffer(&self.resolved, 0, &self.read, 0, 16);
            }
            ctx.queue.submit([encoder.finish()])
        })
    }

    /// Runs `call` (which submits its work) between two timestamps; its value and the GPU
    /// milliseconds between them, `None` when the reading is unusable (zero or backwards).
    pub(crate) fn time<T>(&self, ctx: &GpuContext, call: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        self.stamp(ctx, 0, false)?;
        let value = call()?;
        let last = self.stamp(ctx, 1, true)?;
        ctx.wait(Some(last), "waiting for the tuning timestamps")?;
        let (sender, receiver) = mpsc::channel();
        let slice = self.read.slice(..);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = sender.send(r);
        });
        ctx.wait(None, "mapping the tuning timestamps")?;
        match receiver.recv_timeout(ctx.timeout) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(Error::Validation {
                    operation: "mapping the tuning timestamps".into(),
                    source: GpuSource::new(e),
                })
            }
            Err(_) => {
                return Err(Error::Timeout {
                    operation: "mapping the tuning timestamps".into(),
                    waited: ctx.timeout,
                })
            }
        }
        let ticks = slice
            .get_mapped_range()
            .map(|bytes| [0, 8].map(|at| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]))));
        self.read.unmap();
        let ticks = ticks.map_err(|e| Error::Validation {
            operation: "reading the tuning timestamps".into(),
            source: GpuSource::new(e),
        })?;
        let ms = (ticks[1] > ticks[0]).then(|| (ticks[1] - ticks[0]) as f64 * self.period_ns / 1e6);
        Ok((value, ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Conv2d, Conv2dConfig, GpuOptions, GpuTensor, Tensor};

    /// On an adapter with timestamps (lavapipe has them), a layer's call reads as a positive
    /// GPU time no longer than the wall clock around the whole timed section.
    #[test]
    fn timestamps_bracket_a_call() {
        let ctx = match crate::GpuContext::new(&GpuOptions::default()) {
            Ok(ctx) => ctx,
            Err(e) if std::env::var_os("CI").is_some() => panic!("GPU tests need an adapter in CI: {e}"),
            Err(_) => return,
        };
        let Some(timer) = GpuTimer::new(&ctx) else {
            assert!(
                !ctx.device.features().contains(FEATURES),
                "features present but no timer"
            );
            return;
        };
        let config = Conv2dConfig::builder(32, 3).padding("same").build().unwrap();
        let mut layer = Conv2d::new(config).unwrap();
        layer.build(&[1, 48, 48, 32], Some(3)).unwrap();
        let x = GpuTensor::upload(&ctx, &Tensor::new([1, 48, 48, 32], vec![0.25; 73728]).unwrap()).unwrap();
        layer.forward_gpu(&x).unwrap(); // compile outside the timed section
        ctx.wait_idle().unwrap();
        let start = std::time::Instant::now();
        let (out, ms) = timer.time(&ctx, || layer.forward_gpu(&x)).unwrap();
        let wall = start.elapsed().as_secs_f64() * 1e3;
        let ms = ms.expect("a usable timestamp reading");
        assert!(ms > 0.0 && ms <= wall, "gpu {ms} ms, wall {wall} ms");
        assert_eq!(out.shape(), &[1, 48, 48, 32]);
    }
}
