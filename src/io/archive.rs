//! Zip archives (`.keras`, `.npz`): entries are read with a bound, so a header that lies about an
//! entry's size cannot make the reader allocate more than the archive justifies.

use std::io::{Cursor, Read};

use crate::error::Result;
use crate::io::h5::io_error;

/// The zip local-file-header signature.
pub(crate) const MAGIC: &[u8] = b"PK\x03\x04";

/// How much larger than the archive one inflated entry may be. Keras stores its entries; NumPy's
/// `savez_compressed` deflates float data by well under this.
const MAX_RATIO: u64 = 64;

/// An opened archive and the name it is reported under.
pub(crate) struct Archive {
    zip: zip::ZipArchive<Cursor<Vec<u8>>>,
    source: String,
    len: u64,
}

impl Archive {
    /// Opens the archive held in `bytes`.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when it is not a readable zip archive.
    pub(crate) fn from_bytes(bytes: Vec<u8>, source: &str) -> Result<Self> {
        let len = bytes.len() as u64;
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| io_error(source, format!("not a readable zip archive: {e}")))?;
        Ok(Self {
            zip,
            source: source.to_string(),
            len,
        })
    }

    /// The entries' names.
    pub(crate) fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.to_string()))
            .collect()
    }

    /// The bytes of entry `name`.
    ///
    /// # Errors
    /// [`crate::Error::Io`] naming the archive and the entry when it is missing, inflates past the
    /// bound, or is corrupt (a CRC mismatch included).
    pub(crate) fn read(&mut self, name: &str) -> Result<Vec<u8>> {
        let source = self.source.clone();
        let limit = self.len.saturating_mul(MAX_RATIO).min(4 << 30);
        let mut entry = self
            .zip
            .by_name(name)
            .map_err(|e| io_error(&source, format!("entry `{name}`: {e}")))?;
        let declared = entry.size();
        if declared > limit {
            return Err(io_error(
                &source,
                format!(
                    "entry `{name}` declares {declared} bytes, more than a {} byte archive can hold",
                    self.len
                ),
            ));
        }
        let mut out = Vec::with_capacity(declared as usize);
        (&mut entry)
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| io_error(&source, format!("entry `{name}`: {e}")))?;
        if out.len() as u64 != declared {
            return Err(io_error(
                &source,
                format!(
                    "entry `{name}` holds {} bytes where its header says {declared}",
                    out.len()
                ),
            ));
        }
        Ok(out)
    }
}
