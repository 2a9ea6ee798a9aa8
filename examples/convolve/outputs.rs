//! Writing outputs without losing data: an output may not be an input, two inputs may not map to
//! one output (both refused before any work), and each file is written beside its destination and
//! renamed into place, so a reader never sees half of one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// `path` made absolute and free of `.`/`..`/links as far as it exists (an output may not yet).
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent = parent.canonicalize().unwrap_or_else(|_| parent.to_path_buf());
    match path.file_name() {
        Some(name) => parent.join(name),
        None => parent,
    }
}

/// Refuses outputs that are inputs, and outputs that two inputs share.
pub fn check(inputs: &[PathBuf], outputs: &[(PathBuf, PathBuf)]) -> Result<()> {
    let read: HashMap<PathBuf, &Path> = inputs.iter().map(|p| (canonical(p), p.as_path())).collect();
    let mut written: HashMap<PathBuf, &Path> = HashMap::new();
    for (source, output) in outputs {
        let key = canonical(output);
        if let Some(input) = read.get(&key) {
            bail!(
                "refusing to write {}: it is the input {}; choose another output path",
                output.display(),
                input.display()
            );
        }
        if let Some(first) = written.insert(key, source) {
            bail!(
                "refusing to run: {} and {} would both be written to {}; give them distinct names or output folders",
                first.display(),
                source.display(),
                output.display()
            );
        }
    }
    Ok(())
}

/// Writes `path` through `write(tmp)` on a temporary file beside it, then renames it into place.
pub fn atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?
        .to_string_lossy();
    // Keep the extension last: the image encoder picks the format from it.
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
    let tmp = path.with_file_name(format!(".{stem}.partial-{}.{ext}", std::process::id()));
    let result = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path).with_context(|| format!("cannot move the new {} into place", path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
