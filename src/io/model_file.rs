//! Keras model files: a Keras 3 `.keras` archive (`config.json` + `model.weights.h5`), a legacy
//! Keras 2/3 full-model `.h5` (`model_config` attribute + `model_weights/<layer>/...`), and a
//! Keras 3 `.weights.h5` alone with the layer's config given separately. A Conv2D layer is found by
//! its name anywhere in the model; errors name the file, and a missing layer's lists those that exist.

use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::io::archive::{self, Archive};
use crate::io::h5::{self, io_error, H5};
use crate::io::keras_model::{self, ModelLayer};
use crate::keras::config::Conv2dConfig;
use crate::layer::Conv2d;
use crate::tensor::Tensor;

/// Which kind of model file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// Keras 3 `.keras` (a zip).
    Keras,
    /// Legacy full-model HDF5 (`model.save("x.h5")`).
    LegacyH5,
}

/// A Conv2D layer of a model file, as `convolve --list-layers` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// The layer's name.
    pub name: String,
    /// The names of the models it is nested in, outermost first, then its own.
    pub path: Vec<String>,
    /// Its weights' group in the file (`layers/conv2d_3` in a Keras 3 file).
    pub weights_group: String,
    /// The HWIO kernel shape stored in the file.
    pub kernel_shape: Vec<usize>,
    /// The layer's config.
    pub config: Conv2dConfig,
}

/// A model file opened for its Conv2D layers.
pub struct ModelFile {
    source: String,
    format: ModelFormat,
    layers: Vec<ModelLayer>,
    weights: H5,
}

/// Reads a whole file for a reader, reporting it as its path.
pub(crate) fn read_file(path: &Path) -> Result<(Vec<u8>, String)> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| io_error(&source, e.to_string()))?;
    Ok((bytes, source))
}

impl ModelFile {
    /// Opens a `.keras` archive or a legacy full-model `.h5` (told apart by their signatures).
    ///
    /// # Errors
    /// [`crate::Error::Io`] naming the file when it cannot be read, is neither format, or is
    /// malformed (truncated, corrupt, a lying header).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let (bytes, source) = read_file(path.as_ref())?;
        if bytes.starts_with(archive::MAGIC) {
            let mut zip = Archive::from_bytes(bytes, &source)?;
            let config = zip.read("config.json")?;
            let config: Value = serde_json::from_slice(&config)
                .map_err(|e| io_error(&source, format!("config.json is not JSON: {e}")))?;
            let weights = zip.read("model.weights.h5")?;
            let weights = H5::from_bytes(weights, &format!("{source} (model.weights.h5)"))?;
            return Ok(Self::new(source, ModelFormat::Keras, &config, weights));
        }
        if bytes.starts_with(h5::MAGIC) {
            let weights = H5::from_bytes(bytes, &source)?;
            let text = weights.attr_string("/", "model_config").map_err(|_| {
                io_error(
                    &source,
                    "an HDF5 file without a `model_config` attribute: for a Keras 3 .weights.h5, give the \
                     layer's config separately",
                )
            })?;
            let config: Value =
                serde_json::from_str(&text).map_err(|e| io_error(&source, format!("model_config is not JSON: {e}")))?;
            return Ok(Self::new(source, ModelFormat::LegacyH5, &config, weights));
        }
        Err(io_error(&source, "neither a .keras archive nor an HDF5 model file"))
    }

    fn new(source: String, format: ModelFormat, config: &Value, weights: H5) -> Self {
        Self {
            source,
            format,
            layers: keras_model::layers(config),
            weights,
        }
    }

    /// The format read.
    pub fn format(&self) -> ModelFormat {
        self.format
    }

    /// Every Conv2D layer, in the model's order (nested models' layers where they sit).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when a layer's config or kernel is malformed.
    pub fn conv2d_layers(&self) -> Result<Vec<LayerSummary>> {
        self.layers
            .iter()
            .filter(|l| is_conv2d(l))
            .map(|l| {
                let config = self.config_of(l)?;
                let (kernel_path, _) = self.weight_paths(l)?;
                Ok(LayerSummary {
                    name: l.name.clone(),
                    path: l.name_path.clone(),
                    weights_group: self.weights_group(l),
                    kernel_shape: self.weights.shape(&kernel_path)?,
                    config,
                })
            })
            .collect()
    }

    /// The Conv2D layer called `name`, with its weights.
    ///
    /// # Errors
    /// [`crate::Error::Io`] naming the file: no layer of that name (listing the Conv2D layers that
    /// exist), a layer of another class, weights missing or of the wrong shape or dtype.
    pub fn layer(&self, name: &str) -> Result<Conv2d> {
        let found = self.layers.iter().find(|l| l.name == name).ok_or_else(|| {
            io_error(
                &self.source,
                format!(
                    "no layer named `{name}`; its Conv2D layers are: {}",
                    self.conv2d_names()
                ),
            )
        })?;
        if !is_conv2d(found) {
            return Err(io_error(
                &self.source,
                format!(
                    "layer `{name}` is a {}, not a Conv2D; its Conv2D layers are: {}",
                    found.class,
                    self.conv2d_names()
                ),
            ));
        }
        let config = self.config_of(found)?;
        let (kernel_path, bias_path) = self.weight_paths(found)?;
        let kernel = self.weights.read_f32(&kernel_path)?;
        let bias = match (&bias_path, config.use_bias) {
            (Some(path), true) => Some(self.weights.read_f32(path)?),
            (None, true) => {
                return Err(io_error(
                    &self.source,
                    format!("layer `{name}` uses a bias the file does not hold"),
                ))
            }
            _ => None,
        };
        with_weights(&self.source, name, config, kernel, bias)
    }

    fn conv2d_names(&self) -> String {
        let names: Vec<&str> = self
            .layers
            .iter()
            .filter(|l| is_conv2d(l))
            .map(|l| l.name.as_str())
            .collect();
        if names.is_empty() {
            "(none)".to_string()
        } else {
            names.join(", ")
        }
    }

    fn config_of(&self, layer: &ModelLayer) -> Result<Conv2dConfig> {
        Conv2dConfig::from_keras_value(&layer.entry)
            .map_err(|e| io_error(&self.source, format!("layer `{}`: {e}", layer.name)))
    }

    fn weights_group(&self, layer: &ModelLayer) -> String {
        match self.format {
            ModelFormat::Keras => layer.tracking_path.clone(),
            ModelFormat::LegacyH5 => format!("model_weights/{}", layer.name_path[0]),
        }
    }

    /// The kernel's dataset and, when stored, the bias's.
    fn weight_paths(&self, layer: &ModelLayer) -> Result<(String, Option<String>)> {
        match self.format {
            ModelFormat::Keras => {
                let vars = format!("{}/vars", layer.tracking_path);
                let bias = format!("{vars}/1");
                Ok((format!("{vars}/0"), self.weights.has_dataset(&bias).then_some(bias)))
            }
            ModelFormat::LegacyH5 => {
                // `model_weights/<outermost>/` lists its weights in `weight_names`, each its
                // variable's path (`sequential/cf_a/kernel`, `inner_block/inner_conv/bias`; Keras 2
                // adds `:0`): the layer's ends with its path below the outermost model.
                let group = format!("model_weights/{}", layer.name_path[0]);
                let below = layer.name_path[1..].join("/");
                let tail = if below.is_empty() { layer.name.clone() } else { below };
                let names = self.weights.attr_strings(&group, "weight_names").unwrap_or_default();
                let find = |what: &str| {
                    let suffix = format!("{tail}/{what}");
                    names
                        .iter()
                        .find(|n| {
                            let n = n.strip_suffix(":0").unwrap_or(n);
                            n == suffix || n.ends_with(&format!("/{suffix}"))
                        })
                        .map(|n| format!("{group}/{n}"))
                };
                let kernel = find("kernel").ok_or_else(|| {
                    io_error(
                        &self.source,
                        format!("layer `{}`: no kernel listed under `{group}`", layer.name),
                    )
                })?;
                Ok((kernel, find("bias")))
            }
        }
    }
}

fn is_conv2d(layer: &ModelLayer) -> bool {
    matches!(layer.class.as_str(), "Conv2D" | "Convolution2D")
}

/// A built layer from a config and weights read from `source`, its shape errors naming the file.
pub(crate) fn with_weights(
    source: &str,
    name: &str,
    config: Conv2dConfig,
    kernel: Tensor,
    bias: Option<Tensor>,
) -> Result<Conv2d> {
    Conv2d::with_weights(config, kernel, bias).map_err(|e| io_error(source, format!("layer `{name}`: {e}")))
}

/// A layer from its `get_config()` JSON and a Keras 3 `.weights.h5`, whose weights are the group
/// `group` as h5py shows it (`layers/conv2d_3`; `/vars` is optional).
///
/// # Errors
/// [`crate::Error::Io`] naming the file (missing group, wrong shape or dtype, malformed file);
/// the config's own errors.
pub fn layer_from_weights_h5(config: Conv2dConfig, weights: impl AsRef<Path>, group: &str) -> Result<Conv2d> {
    let (bytes, source) = read_file(weights.as_ref())?;
    let file = H5::from_bytes(bytes, &source)?;
    let group = group.trim_matches('/');
    let vars = if group.ends_with("/vars") {
        group.to_string()
    } else {
        format!("{group}/vars")
    };
    if !file.has_dataset(&format!("{vars}/0")) {
        let parent = group.rsplit_once('/').map_or("layers", |(p, _)| p);
        let children = file.child_groups(parent).unwrap_or_default();
        return Err(io_error(
            file.source(),
            format!(
                "no weights at `{vars}/0`; groups under `{parent}`: {}",
                children.join(", ")
            ),
        ));
    }
    let kernel = file.read_f32(&format!("{vars}/0"))?;
    let bias_path = format!("{vars}/1");
    let bias = if config.use_bias {
        Some(file.read_f32(&bias_path)?)
    } else {
        None
    };
    let name = config.name.clone();
    with_weights(file.source(), &name, config, kernel, bias)
}

impl Conv2d {
    /// The Conv2D layer `name` of a Keras model file (`.keras`, or a legacy `.h5`), with its weights.
    ///
    /// # Errors
    /// As [`ModelFile::open`] and [`ModelFile::layer`].
    pub fn from_keras_file(path: impl AsRef<Path>, name: &str) -> Result<Self> {
        ModelFile::open(path)?.layer(name)
    }
}

/// The Conv2D layers of a model file with their config summary.
///
/// # Errors
/// As [`ModelFile::open`] and [`ModelFile::conv2d_layers`].
pub fn list_conv2d_layers(path: impl AsRef<Path>) -> Result<Vec<LayerSummary>> {
    ModelFile::open(path)?.conv2d_layers()
}
