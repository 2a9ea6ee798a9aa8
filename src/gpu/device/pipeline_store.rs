//! wgpu's `PipelineCache` kept on disk (adapters with `PIPELINE_CACHE`: Vulkan), so a later
//! process builds its pipelines from the driver's cached binaries. The blob is stored behind a
//! header of ours (magic, length, FNV-1a digest) and handed to wgpu only when it checks out: a
//! truncated or corrupt file never reaches the driver. wgpu itself rejects a blob of another
//! adapter or driver (`fallback: true` then starts empty).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::gpu::tuning::store;

const MAGIC: &[u8; 8] = b"WCPCACH1";

/// The persistent pipeline cache of one context.
pub(crate) struct PipelineStore {
    pub(crate) cache: wgpu::PipelineCache,
    path: PathBuf,
    /// Set when a pipeline was compiled since the last save.
    dirty: AtomicBool,
    /// When the file was last written: compiles save at most every [`SAVE_EVERY`], the context's
    /// drop saves the rest.
    saved: Mutex<Option<Instant>>,
}

/// The least time between two saves while pipelines compile (each save writes the whole blob).
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// `data` framed for the file.
fn frame(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 24);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    out.extend_from_slice(&store::fnv1a(data).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The blob inside a framed file, when the frame is whole and the digest matches.
fn unframe(file: &[u8]) -> Option<&[u8]> {
    let header = file.get(..24)?;
    let len = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let sum = u64::from_le_bytes(header[16..24].try_into().ok()?);
    let data = &file[24..];
    (header[..8] == MAGIC[..] && data.len() as u64 == len && store::fnv1a(data) == sum).then_some(data)
}

fn read_blob(path: &Path) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => match unframe(&bytes) {
            Some(data) => Some(data.to_vec()),
            None => {
                log::warn!("ignoring the corrupt pipeline cache {}", path.display());
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            log::warn!("ignoring the pipeline cache {}: {e}", path.display());
            None
        }
    }
}

impl PipelineStore {
    /// The cache for `device` under `dir`, loaded from its file where that holds a valid blob;
    /// `None` where the device lacks `PIPELINE_CACHE` or wgpu has no cache key for the adapter.
    pub(crate) fn open(device: &wgpu::Device, info: &wgpu::AdapterInfo, dir: Option<PathBuf>) -> Option<Self> {
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let path = dir?.join(format!("pipelines-{}.bin", wgpu::util::pipeline_cache_key(info)?));
        let data = read_blob(&path);
        // SAFETY: `data` is a blob `PipelineCache::get_data` returned (our frame and digest
        // check that it is whole and unchanged); wgpu validates its header against this
        // adapter and, with `fallback`, starts empty when it does not match.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("wgpu-conv2d pipelines"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        log::debug!(
            "pipeline cache {} ({} bytes loaded)",
            path.display(),
            data.as_ref().map_or(0, Vec::len)
        );
        Some(Self {
            cache,
            path,
            dirty: AtomicBool::new(false),
            saved: Mutex::new(None),
        })
    }

    /// Notes that a pipeline was compiled through the cache, and saves when the last save is
    /// older than [`SAVE_EVERY`].
    pub(crate) fn compiled(&self) {
        self.dirty.store(true, Ordering::Relaxed);
        let due = self
            .saved
            .lock()
            .map(|s| s.is_none_or(|at| at.elapsed() >= SAVE_EVERY))
            .unwrap_or(true);
        if due {
            self.save();
        }
    }

    /// Writes the cache's data when pipelines were compiled since the last save (logged, never
    /// an error, when the directory is not writable).
    pub(crate) fn save(&self) {
        if !self.dirty.swap(false, Ordering::Relaxed) {
            return;
        }
        if let Ok(mut saved) = self.saved.lock() {
            *saved = Some(Instant::now());
        }
        let Some(data) = self.cache.get_data() else {
            return;
        };
        if let Err(e) = store::write_atomically(&self.path, &frame(&data)) {
            log::warn!("could not write the pipeline cache {}: {e}", self.path.display());
        }
    }
}

impl Drop for PipelineStore {
    /// What compiled since the last save reaches the file when the context goes.
    fn drop(&mut self) {
        self.save();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_check_length_magic_and_digest() {
        let blob = b"driver bytes".to_vec();
        let framed = frame(&blob);
        assert_eq!(unframe(&framed), Some(&blob[..]));
        assert_eq!(unframe(&framed[..framed.len() - 1]), None, "truncated");
        let mut flipped = framed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(unframe(&flipped), None, "corrupt");
        let mut foreign = framed;
        foreign[0] = b'X';
        assert_eq!(unframe(&foreign), None, "not ours");
        assert_eq!(unframe(b"short"), None);
    }
}
