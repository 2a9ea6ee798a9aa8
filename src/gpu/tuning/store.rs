//! The persistent cache: where it lives, the tuner's choices file, and writing any cache file so
//! that a reader never sees half of one (a temporary file renamed over it; rename is atomic on
//! one filesystem). A file that is missing, unreadable, corrupt, for another adapter or driver,
//! or from another crate version is ignored with a `log` message, never an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The version of the choices file's layout; a file of another version is ignored.
pub const FORMAT: u32 = 1;

/// The cache directory: `explicit`, else `WGPU_CONV2D_CACHE_DIR` (empty: no persistent cache),
/// else the platform's cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux,
/// `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows) joined with `wgpu-conv2d`.
pub fn cache_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("WGPU_CONV2D_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(target_os = "windows") {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Caches"))
    } else {
        env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("wgpu-conv2d"))
}

/// One tuned geometry class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The algorithm kept.
    pub algorithm: String,
    /// Its median ms per call when measured.
    pub ms: f64,
    /// The registry rules' algorithm and its ms, for the record.
    pub rules: String,
    /// The rules' median ms per call.
    pub rules_ms: f64,
}

/// The choices file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ChoicesFile {
    format: u32,
    crate_version: String,
    adapter: String,
    choices: BTreeMap<String, Choice>,
}

/// Writes `bytes` to `path` through a temporary file in the same directory renamed over it, so
/// concurrent writers each leave a whole file (the last rename wins) and readers never see a
/// partial one.
///
/// # Errors
/// The filesystem's.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // Unique per process and call, so threads of one process never share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("cache");
    let temp = dir.join(format!(".{name}.{}.{n}.{nanos}.tmp", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// The choices stored in `path` for `adapter` by this crate version; empty (and said through
/// `log`) when the file is missing or unusable.
pub fn load_choices(path: &Path, adapter: &str) -> BTreeMap<String, Choice> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            log::info!("no tuning cache at {} yet", path.display());
            return BTreeMap::new();
        }
        Err(e) => {
            log::warn!("ignoring the tuning cache {}: {e}", path.display());
            return BTreeMap::new();
        }
    };
    let file: ChoicesFile = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            log::warn!("ignoring the corrupt tuning cache {}: {e}", path.display());
            return BTreeMap::new();
        }
    };
    let version = env!("CARGO_PKG_VERSION");
    if file.format != FORMAT || file.crate_version != version {
        log::warn!(
            "ignoring the tuning cache {}: written by wgpu-conv2d {} (format {}), this is {version} (format {FORMAT})",
            path.display(),
            file.crate_version,
            file.format
        );
        return BTreeMap::new();
    }
    if file.adapter != adapter {
        log::warn!(
            "ignoring the tuning cache {}: it is for adapter {:?}, this is {adapter:?}",
            path.display(),
            file.adapter
        );
        return BTreeMap::new();
    }
    file.choices
}

/// Stores `choices` for `adapter` in `path`, merged over what another process may have stored
/// there meanwhile.
///
/// # Errors
/// The filesystem's (the caller logs them: a cache that cannot be written is not a failure).
pub fn save_choices(path: &Path, adapter: &str, choices: &BTreeMap<String, Choice>) -> std::io::Result<()> {
    let mut merged = if path.exists() {
        load_choices(path, adapter)
    } else {
        BTreeMap::new()
    };
    merged.extend(choices.iter().map(|(k, v)| (k.clone(), v.clone())));
    let file = ChoicesFile {
        format: FORMAT,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        adapter: adapter.to_string(),
        choices: merged,
    };
    let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
    write_atomically(path, text.as_bytes())
}

/// A short stable hex digest of `text` (FNV-1a), for file names.
pub fn digest(text: &str) -> String {
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// The 64-bit FNV-1a hash of `bytes`: cache file names and the pipeline blob's check.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wgpu-conv2d-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn choice(algorithm: &str) -> Choice {
        Choice {
            algorithm: algorithm.into(),
            ms: 1.5,
            rules: "direct".into(),
            rules_ms: 2.0,
        }
    }

    #[test]
    fn choices_round_trip_and_merge_with_another_writer() {
        let dir = temp_dir("merge");
        let path = dir.join("tuning.json");
        let mut first = BTreeMap::new();
        first.insert("class a".to_string(), choice("igemm_tiled"));
        save_choices(&path, "gpu x", &first).unwrap();
        let mut second = BTreeMap::new();
        second.insert("class b".to_string(), choice("depthwise_loop"));
        save_choices(&path, "gpu x", &second).unwrap();
        let loaded = load_choices(&path, "gpu x");
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded["class a"], choice("igemm_tiled"));
        assert_eq!(loaded["class b"].algorithm, "depthwise_loop");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_corrupt_foreign_and_old_files_are_empty() {
        let dir = temp_dir("bad");
        let path = dir.join("tuning.json");
        assert!(load_choices(&path, "gpu x").is_empty(), "missing");
        std::fs::write(&path, b"{\"format\": 1, \"choi").unwrap();
        assert!(load_choices(&path, "gpu x").is_empty(), "truncated");
        std::fs::write(&path, [0xff, 0xfe, 0x00, 0x12]).unwrap();
        assert!(load_choices(&path, "gpu x").is_empty(), "binary");
        let mut one = BTreeMap::new();
        one.insert("c".to_string(), choice("direct"));
        save_choices(&path, "gpu x", &one).unwrap();
        assert!(load_choices(&path, "gpu y").is_empty(), "another adapter");
        let old = std::fs::read_to_string(&path)
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "0.0.0-old");
        std::fs::write(&path, old).unwrap();
        assert!(load_choices(&path, "gpu x").is_empty(), "another crate version");
        // A corrupt file is replaced whole by the next save.
        std::fs::write(&path, b"garbage").unwrap();
        save_choices(&path, "gpu x", &one).unwrap();
        assert_eq!(load_choices(&path, "gpu x").len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn concurrent_writers_leave_a_whole_file() {
        let dir = temp_dir("race");
        let path = dir.join("tuning.json");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let mut c = BTreeMap::new();
                        c.insert(format!("class {t}-{i}"), choice("igemm_subgroup"));
                        save_choices(&path, "gpu x", &c).unwrap();
                        // Every read in between sees a whole, valid file.
                        let text = std::fs::read_to_string(&path).unwrap();
                        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let loaded = load_choices(&path, "gpu x");
        assert!(!loaded.is_empty() && loaded.len() <= 200);
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "temporary files left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_cache_dir_follows_the_option_then_the_environment() {
        let explicit = PathBuf::from("/tmp/explicit");
        assert_eq!(cache_dir(Some(&explicit)), Some(explicit));
        assert_eq!(digest("a"), digest("a"));
        assert_ne!(digest("a"), digest("b"));
    }
}
