//! NumPy `.npy` files (format 1.0–3.0): float32/float64 little-endian, C order, read as f32.

use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

const MAGIC: &[u8] = b"\x93NUMPY";

fn err(path: &str, message: impl Into<String>) -> Error {
    Error::Io {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Parses `.npy` bytes: `<f2`, `<f4` or `<f8`, C order. f64 values are rounded to f32, as Keras
/// casts inputs; f16 values are exact in f32. (bfloat16 has no `.npy` code: save it as float32.)
///
/// # Errors
/// [`Error::Io`] naming `source` for a malformed header, another dtype, Fortran order, or a
/// data length that does not match the shape.
pub fn parse(bytes: &[u8], source: &str) -> Result<Tensor> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(err(source, "not a .npy file (bad magic)"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(err(source, format!("unsupported .npy version {v}"))),
    };
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| err(source, "truncated header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| err(source, "header is not text"))?;
    let field = |name: &str| -> Result<&str> {
        let key = format!("'{name}':");
        let at = header
            .find(&key)
            .ok_or_else(|| err(source, format!("header has no {name}")))?;
        Ok(header[at + key.len()..].trim_start())
    };
    let descr = field("descr")?;
    let width = if descr.starts_with("'<f4'") || descr.starts_with("'float32'") {
        4
    } else if descr.starts_with("'<f2'") || descr.starts_with("'float16'") {
        2
    } else if descr.starts_with("'<f8'") || descr.starts_with("'float64'") {
        8
    } else {
        let shown = descr.split(',').next().unwrap_or(descr);
        return Err(err(
            source,
            format!("dtype {shown} is not supported: save float16, float32 or float64 (little-endian)"),
        ));
    };
    let fortran = field("fortran_order")?.starts_with("True");
    let shape_text = field("shape")?;
    let close = shape_text.find(')').ok_or_else(|| err(source, "malformed shape"))?;
    let shape = shape_text[1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| err(source, format!("malformed shape dimension {s:?}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| err(source, "shape overflows"))?;
    let data = &bytes[end..];
    if Some(data.len()) != count.checked_mul(width) {
        return Err(err(
            source,
            format!(
                "shape {shape:?} needs {count} values but the file holds {} bytes of data",
                data.len()
            ),
        ));
    }
    let values: Vec<f32> = match width {
        2 => data
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        4 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("chunk of 8")) as f32)
            .collect(),
    };
    let values = if fortran {
        column_major_to_row_major(&values, &shape)
    } else {
        values
    };
    Tensor::new(shape, values)
}

/// Reorders a Fortran-order (column-major) array to C order.
fn column_major_to_row_major(values: &[f32], shape: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    let mut index = vec![0usize; shape.len()];
    for &v in values {
        // `index` walks the array with the first axis fastest, as Fortran order stores it.
        let row_major = index.iter().zip(shape).fold(0, |acc, (i, d)| acc * d + i);
        out[row_major] = v;
        for (i, d) in index.iter_mut().zip(shape) {
            *i += 1;
            if *i < *d {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// Reads a `.npy` file.
///
/// # Errors
/// [`Error::Io`] for a missing or unreadable file, and the errors of [`parse`].
pub fn read(path: impl AsRef<Path>) -> Result<Tensor> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| err(&shown, e.to_string()))?;
    parse(&bytes, &shown)
}

/// The element type of a written `.npy` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NpyDtype {
    /// `<f4`.
    #[default]
    Float32,
    /// `<f2` (values rounded to nearest even; inf past 65504).
    Float16,
}

impl NpyDtype {
    fn descr(self) -> &'static str {
        match self {
            Self::Float32 => "<f4",
            Self::Float16 => "<f2",
        }
    }
}

/// `.npy` bytes (version 1.0, `<f4`, C order) for a tensor.
pub fn to_bytes(tensor: &Tensor) -> Vec<u8> {
    to_bytes_as(tensor, NpyDtype::Float32)
}

/// `.npy` bytes (version 1.0, C order) for a tensor stored as `dtype`.
pub fn to_bytes_as(tensor: &Tensor, dtype: NpyDtype) -> Vec<u8> {
    let dims: Vec<String> = tensor.shape().iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let descr = dtype.descr();
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Pad so that the data starts on a 64-byte boundary, ending the header with '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * tensor.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match dtype {
        NpyDtype::Float32 => tensor
            .data()
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        NpyDtype::Float16 => tensor
            .data()
            .iter()
            .for_each(|v| out.extend_from_slice(&half::f16::from_f32(*v).to_le_bytes())),
    }
    out
}

/// Writes a tensor as a float32 `.npy` file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    write_as(path, tensor, NpyDtype::Float32)
}

/// Writes a tensor as a `.npy` file of `dtype`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_as(path: impl AsRef<Path>, tensor: &Tensor, dtype: NpyDtype) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, to_bytes_as(tensor, dtype)).map_err(|e| err(&path.display().to_string(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float16_files_round_trip_exactly_and_round_on_write() {
        let t = Tensor::new([2, 3], vec![1.0, -0.5, 65504.0, 1e5, 1.0 + 1.0 / 4096.0, 6e-8]).unwrap();
        let back = parse(&to_bytes_as(&t, NpyDtype::Float16), "t").unwrap();
        assert_eq!(back.shape(), &[2, 3]);
        assert_eq!(
            back.data(),
            &[1.0, -0.5, 65504.0, f32::INFINITY, 1.0, 2f32.powi(-24) * 1.0]
        );
        let exact = parse(&to_bytes_as(&back, NpyDtype::Float16), "t").unwrap();
        assert_eq!(exact.data(), back.data());
    }

    #[test]
    fn round_trips_and_rejects_bad_files() {
        let t = Tensor::new([2, 3], vec![1.0, -2.5, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let bytes = to_bytes(&t);
        assert_eq!((10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64, 0);
        assert_eq!(parse(&bytes, "t").unwrap(), t);
        assert!(parse(b"garbage", "g").is_err());
        assert!(parse(&bytes[..bytes.len() - 4], "short")
            .unwrap_err()
            .to_string()
            .contains("needs 6 values"));
        // The same bytes declared Fortran-order are the transpose.
        let end = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let edit = |from: &str, to: &str| {
            let header = String::from_utf8(bytes[10..end].to_vec()).unwrap().replace(from, to);
            [&bytes[..10], header.as_bytes(), &bytes[end..]].concat()
        };
        let fortran = edit(
            "'fortran_order': False, 'shape': (2, 3)",
            "'fortran_order': True, 'shape': (3, 2) ",
        );
        let ft = parse(&fortran, "f").unwrap();
        assert_eq!(ft.shape(), &[3, 2]);
        assert_eq!(ft.data(), &[1.0, 4.0, -2.5, 5.0, 3.0, 6.0]);
        assert!(parse(&edit("<f4", "<i4"), "i")
            .unwrap_err()
            .to_string()
            .contains("not supported"));
    }
}
