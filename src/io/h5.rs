//! HDF5 files (Keras's `.weights.h5` and legacy full-model `.h5`) through the pure-Rust
//! `hdf5-reader`, with every read bounded by what the file can hold, and every failure (a
//! malformed, truncated or hostile file included) an error naming the file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use hdf5_reader::{Datatype, Hdf5File, OpenOptions};

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The HDF5 signature at offset 0.
pub(crate) const MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// An opened HDF5 file and the name it is reported under.
pub(crate) struct H5 {
    file: Hdf5File,
    source: String,
    len: usize,
}

pub(crate) fn io_error(source: &str, message: impl Into<String>) -> Error {
    Error::Io {
        path: source.to_string(),
        message: message.into(),
    }
}

/// Runs a reader call, turning its errors, and any panic inside it, into [`Error::Io`].
fn guarded<T>(source: &str, what: &str, f: impl FnOnce() -> hdf5_reader::error::Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(io_error(source, format!("{what}: {e}"))),
        Err(_) => Err(io_error(source, format!("{what}: the HDF5 data is malformed"))),
    }
}

impl H5 {
    /// Parses `bytes` (the whole file) reported as `source`.
    ///
    /// # Errors
    /// [`Error::Io`] when it is not an HDF5 file or its structure is malformed.
    pub(crate) fn from_bytes(bytes: Vec<u8>, source: &str) -> Result<Self> {
        if !bytes.starts_with(MAGIC) {
            return Err(io_error(source, "not an HDF5 file (bad signature)"));
        }
        let len = bytes.len();
        // Keras writes uncompressed, unfiltered data: nothing read can exceed the file itself.
        let options = OpenOptions::default()
            .with_max_read_bytes(len)
            .with_max_chunk_bytes(len)
            .with_max_object_header_bytes(len.min(16 << 20));
        let file = guarded(source, "opening", || Hdf5File::from_vec_with_options(bytes, options))?;
        // As libhdf5 does: a file shorter than the end its superblock records was truncated.
        let end = file
            .superblock()
            .base_address
            .saturating_add(file.superblock().eof_address);
        if (len as u64) < end {
            return Err(io_error(
                source,
                format!("truncated: the file's superblock says it ends at byte {end}, but it has {len} bytes"),
            ));
        }
        Ok(Self {
            file,
            source: source.to_string(),
            len,
        })
    }

    /// The name errors report.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// True when a dataset exists at `path`.
    pub(crate) fn has_dataset(&self, path: &str) -> bool {
        guarded(&self.source, path, || self.file.dataset(path)).is_ok()
    }

    /// The shape of the dataset at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when there is none or it is malformed.
    pub(crate) fn shape(&self, path: &str) -> Result<Vec<usize>> {
        let ds = guarded(&self.source, path, || self.file.dataset(path))?;
        Ok(ds.shape().iter().map(|&d| d as usize).collect())
    }

    /// The float32 or float64 dataset at `path` as f32 (f64 rounded, as Keras casts).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file and the dataset for another dtype, a shape whose data the
    /// file cannot hold, or a malformed dataset.
    pub(crate) fn read_f32(&self, path: &str) -> Result<Tensor> {
        let ds = guarded(&self.source, path, || self.file.dataset(path))?;
        let shape: Vec<usize> = ds.shape().iter().map(|&d| d as usize).collect();
        let size = match ds.dtype() {
            Datatype::FloatingPoint { size, .. } if *size == 4 || *size == 8 => *size as usize,
            other => {
                return Err(io_error(
                    &self.source,
                    format!(
                        "dataset `{path}` holds {}; a Conv2D weight must be float32 or float64",
                        describe(other)
                    ),
                ))
            }
        };
        let elements = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .filter(|n| n.checked_mul(size).is_some_and(|b| b <= self.len))
            .ok_or_else(|| {
                io_error(
                    &self.source,
                    format!("dataset `{path}` declares shape {shape:?}, more data than the file holds"),
                )
            })?;
        let values: Vec<f32> = if size == 4 {
            let mut v = vec![0f32; elements];
            guarded(&self.source, path, || ds.read_into(&mut v))?;
            v
        } else {
            let mut v = vec![0f64; elements];
            guarded(&self.source, path, || ds.read_into(&mut v))?;
            v.into_iter().map(|x| x as f32).collect()
        };
        Tensor::new(shape, values).map_err(|e| io_error(&self.source, format!("dataset `{path}`: {e}")))
    }

    /// The string attribute `name` of the group at `group` ("/" for the root).
    ///
    /// # Errors
    /// [`Error::Io`] when it is missing or not a string.
    pub(crate) fn attr_string(&self, group: &str, name: &str) -> Result<String> {
        let what = format!("attribute `{name}` of `{group}`");
        let g = guarded(&self.source, &what, || self.group(group))?;
        let attr = guarded(&self.source, &what, || g.attribute(name))?;
        guarded(&self.source, &what, || attr.read_string())
    }

    /// The string-array attribute `name` of the group at `group`.
    ///
    /// # Errors
    /// [`Error::Io`] when it is missing or not strings.
    pub(crate) fn attr_strings(&self, group: &str, name: &str) -> Result<Vec<String>> {
        let what = format!("attribute `{name}` of `{group}`");
        let g = guarded(&self.source, &what, || self.group(group))?;
        let attr = guarded(&self.source, &what, || g.attribute(name))?;
        guarded(&self.source, &what, || attr.read_strings())
    }

    /// The names of the groups directly under `group`.
    pub(crate) fn child_groups(&self, group: &str) -> Result<Vec<String>> {
        let g = guarded(&self.source, group, || self.group(group))?;
        let (groups, _) = guarded(&self.source, group, || g.member_names())?;
        Ok(groups)
    }

    fn group(&self, path: &str) -> hdf5_reader::error::Result<hdf5_reader::group::Group> {
        if path == "/" || path.is_empty() {
            self.file.root_group()
        } else {
            self.file.group(path)
        }
    }
}

fn describe(dtype: &Datatype) -> String {
    match dtype {
        Datatype::FixedPoint { size, signed, .. } => {
            format!("{}int{}", if *signed { "" } else { "u" }, 8 * *size as u32)
        }
        Datatype::FloatingPoint { size, .. } => format!("float{}", 8 * *size as u32),
        Datatype::String { .. } | Datatype::VarLen { .. } => "strings".to_string(),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}
