//! Named tensors in `.safetensors` (Hugging Face's format, PyTorch's OIHW kernels) and `.npz`
//! (NumPy's zip of `.npy` files), and a Conv2D layer built from a config and such a file.

use std::path::Path;

use crate::error::Result;
use crate::io::archive::{self, Archive};
use crate::io::h5::io_error;
use crate::io::model_file::{read_file, with_weights};
use crate::io::npy;
use crate::keras::config::Conv2dConfig;
use crate::layer::Conv2d;
use crate::tensor::Tensor;
use crate::weights::kernel_from_oihw;

/// How a file lays out a Conv2D kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelLayout {
    /// Keras's `(kh, kw, Cin/groups, filters)`.
    Hwio,
    /// PyTorch's `(filters, Cin/groups, kh, kw)`.
    Oihw,
}

impl KernelLayout {
    /// The usual layout of a file: OIHW for `.safetensors` (PyTorch), HWIO otherwise.
    pub fn default_for(path: &Path) -> Self {
        if path.extension().is_some_and(|e| e == "safetensors") {
            Self::Oihw
        } else {
            Self::Hwio
        }
    }
}

/// The tensors of a `.safetensors` or `.npz` file.
pub struct TensorFile {
    source: String,
    kind: Kind,
}

enum Kind {
    SafeTensors(Vec<u8>),
    Npz(Archive),
}

impl TensorFile {
    /// Opens a `.npz` (a zip) or `.safetensors` file.
    ///
    /// # Errors
    /// [`crate::Error::Io`] naming the file when it cannot be read or is malformed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let (bytes, source) = read_file(path.as_ref())?;
        let kind = if bytes.starts_with(archive::MAGIC) {
            Kind::Npz(Archive::from_bytes(bytes, &source)?)
        } else {
            safetensors::SafeTensors::deserialize(&bytes)
                .map_err(|e| io_error(&source, format!("neither .npz nor a valid .safetensors file: {e}")))?;
            Kind::SafeTensors(bytes)
        };
        Ok(Self { source, kind })
    }

    /// The tensors' names.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.kind {
            Kind::SafeTensors(bytes) => safetensors::SafeTensors::deserialize(bytes)
                .map(|t| t.names().into_iter().map(str::to_string).collect())
                .unwrap_or_default(),
            Kind::Npz(zip) => zip
                .names()
                .into_iter()
                .map(|n| n.strip_suffix(".npy").unwrap_or(&n).to_string())
                .collect(),
        };
        names.sort();
        names
    }

    /// The tensor `name` as f32 (float32 or float64 stored).
    ///
    /// # Errors
    /// [`crate::Error::Io`] naming the file and the tensor: missing (listing those that exist),
    /// another dtype, malformed.
    pub fn tensor(&mut self, name: &str) -> Result<Tensor> {
        let missing = |names: Vec<String>| {
            io_error(
                &self.source,
                format!("no tensor `{name}`; the file holds: {}", names.join(", ")),
            )
        };
        match &mut self.kind {
            Kind::SafeTensors(bytes) => {
                let file =
                    safetensors::SafeTensors::deserialize(bytes).map_err(|e| io_error(&self.source, e.to_string()))?;
                let Ok(view) = file.tensor(name) else {
                    let mut names: Vec<String> = file.names().into_iter().map(str::to_string).collect();
                    names.sort();
                    return Err(missing(names));
                };
                let data = view.data();
                let values: Vec<f32> = match view.dtype() {
                    safetensors::Dtype::F32 => data
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                    safetensors::Dtype::F64 => data
                        .chunks_exact(8)
                        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                        .collect(),
                    other => {
                        return Err(io_error(
                            &self.source,
                            format!("tensor `{name}` is {other:?}; a Conv2D weight must be F32 or F64"),
                        ))
                    }
                };
                Tensor::new(view.shape().to_vec(), values)
                    .map_err(|e| io_error(&self.source, format!("tensor `{name}`: {e}")))
            }
            Kind::Npz(zip) => {
                let entry = format!("{name}.npy");
                if !zip.names().contains(&entry) {
                    let mut names: Vec<String> = zip
                        .names()
                        .into_iter()
                        .map(|n| n.strip_suffix(".npy").unwrap_or(&n).to_string())
                        .collect();
                    names.sort();
                    return Err(missing(names));
                }
                let bytes = zip.read(&entry)?;
                npy::parse(&bytes, &format!("{} ({entry})", self.source))
            }
        }
    }

    /// The first of `candidates` the file holds.
    fn first_of(&mut self, candidates: &[String]) -> Option<String> {
        let names = self.names();
        candidates.iter().find(|c| names.contains(c)).cloned()
    }
}

/// A layer from its config and the kernel (and bias) of a `.safetensors` or `.npz` file. `prefix`
/// names the layer's tensors: `PREFIX.weight` / `PREFIX.kernel` / `PREFIX/kernel` (or `PREFIX`
/// itself) and `PREFIX.bias` / `PREFIX/bias`; without one, `kernel` (or `weight`) and `bias`.
/// An OIHW kernel is converted to Keras's HWIO.
///
/// # Errors
/// [`crate::Error::Io`] naming the file: a missing tensor (listing those that exist), a dtype that
/// is not float, a kernel whose shape does not fit the config (with Keras's message).
pub fn layer_from_tensors(
    config: Conv2dConfig,
    path: impl AsRef<Path>,
    prefix: Option<&str>,
    layout: KernelLayout,
) -> Result<Conv2d> {
    let mut file = TensorFile::open(path)?;
    let (kernels, biases): (Vec<String>, Vec<String>) = match prefix {
        Some(p) => (
            vec![
                format!("{p}.weight"),
                format!("{p}.kernel"),
                format!("{p}/kernel"),
                p.to_string(),
            ],
            vec![format!("{p}.bias"), format!("{p}/bias")],
        ),
        None => (vec!["kernel".into(), "weight".into()], vec!["bias".into()]),
    };
    let kernel_name = file.first_of(&kernels).unwrap_or_else(|| kernels[0].clone());
    let kernel = file.tensor(&kernel_name)?;
    let kernel = match layout {
        KernelLayout::Hwio => kernel,
        KernelLayout::Oihw => {
            kernel_from_oihw(&kernel).map_err(|e| io_error(&file.source, format!("tensor `{kernel_name}`: {e}")))?
        }
    };
    let bias = if config.use_bias {
        let name = file.first_of(&biases).unwrap_or_else(|| biases[0].clone());
        Some(file.tensor(&name)?)
    } else {
        None
    };
    let name = config.name.clone();
    with_weights(&file.source, &name, config, kernel, bias)
}
