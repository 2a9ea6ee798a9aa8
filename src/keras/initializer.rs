//! Keras initializers by string or class name, with Keras's defaults and fan rules, seedable.

use serde_json::Value;

use crate::error::format::py_shape;
use crate::error::{Error, Result};
use crate::keras::object::{self as ko, ClassSpec, Resolved};
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zeros,
    Ones,
    Constant,
    Identity,
    RandomNormal,
    TruncatedNormal,
    RandomUniform,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
    Stft,
    Base,
}

const FAN_AXES: &str = r#"{"seed": null, "input_axes": null, "output_axes": null}"#;

const SPECS: &[ClassSpec<Kind>] = &[
    ClassSpec {
        kind: Kind::Zeros,
        class: "Zeros",
        names: &["zeros", "zero"],
        defaults: "{}",
    },
    ClassSpec {
        kind: Kind::Ones,
        class: "Ones",
        names: &["ones", "one"],
        defaults: "{}",
    },
    ClassSpec {
        kind: Kind::Constant,
        class: "Constant",
        names: &["constant"],
        defaults: r#"{"value": 0.0}"#,
    },
    ClassSpec {
        kind: Kind::Identity,
        class: "Identity",
        names: &["identity", "IdentityInitializer"],
        defaults: "{}",
    },
    ClassSpec {
        kind: Kind::RandomNormal,
        class: "RandomNormal",
        names: &["random_normal", "normal"],
        defaults: r#"{"seed": null, "mean": 0.0, "stddev": 0.05}"#,
    },
    ClassSpec {
        kind: Kind::TruncatedNormal,
        class: "TruncatedNormal",
        names: &["truncated_normal"],
        defaults: r#"{"seed": null, "mean": 0.0, "stddev": 0.05}"#,
    },
    ClassSpec {
        kind: Kind::RandomUniform,
        class: "RandomUniform",
        names: &["random_uniform", "uniform"],
        defaults: r#"{"seed": null, "minval": -0.05, "maxval": 0.05}"#,
    },
    ClassSpec {
        kind: Kind::VarianceScaling,
        class: "VarianceScaling",
        names: &["variance_scaling"],
        defaults: r#"{"seed": null, "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "input_axes": null, "output_axes": null}"#,
    },
    ClassSpec {
        kind: Kind::GlorotUniform,
        class: "GlorotUniform",
        names: &["glorot_uniform"],
        defaults: FAN_AXES,
    },
    ClassSpec {
        kind: Kind::GlorotNormal,
        class: "GlorotNormal",
        names: &["glorot_normal"],
        defaults: FAN_AXES,
    },
    ClassSpec {
        kind: Kind::HeUniform,
        class: "HeUniform",
        names: &["he_uniform"],
        defaults: FAN_AXES,
    },
    ClassSpec {
        kind: Kind::HeNormal,
        class: "HeNormal",
        names: &["he_normal"],
        defaults: FAN_AXES,
    },
    ClassSpec {
        kind: Kind::LecunUniform,
        class: "LecunUniform",
        names: &["lecun_uniform"],
        defaults: FAN_AXES,
    },
    ClassSpec {
        kind: Kind::LecunNormal,
        class: "LecunNormal",
        names: &["lecun_normal"],
        defaults: FAN_AXES,
    },
    ClassSpec {
        kind: Kind::Orthogonal,
        class: "Orthogonal",
        names: &["orthogonal", "OrthogonalInitializer"],
        defaults: r#"{"seed": null, "gain": 1.0}"#,
    },
    ClassSpec {
        kind: Kind::Stft,
        class: "STFT",
        names: &["stft", "STFTInitializer"],
        defaults: r#"{"side": "real", "window": "hann", "periodic": false, "scaling": "density"}"#,
    },
    ClassSpec {
        kind: Kind::Base,
        class: "Initializer",
        names: &["initializer"],
        defaults: "{}",
    },
];

/// A Keras initializer (`keras.initializers.*`): what `kernel_initializer`/`bias_initializer` hold.
///
/// Random initializers draw from this crate's generator: the same `seed` always gives the same
/// weights here, but not the same numbers as Keras (whose streams are backend-specific);
/// the distributions (bounds, mean, variance) are Keras's.
#[derive(Debug, Clone, PartialEq)]
pub struct Initializer(Resolved<Kind>);

/// The variance-scaling parameters of an initializer (Glorot/He/Lecun are fixed cases).
struct Scaling {
    scale: f64,
    mode: String,
    distribution: String,
}

impl Initializer {
    /// What `keras.initializers.get` does with a string or a serialized dict.
    ///
    /// # Errors
    /// [`Error::UnknownIdentifier`] (`Could not interpret initializer identifier: …`), or an
    /// [`Error::InvalidArgument`] with Keras's message for an invalid `scale`/`mode`/`distribution`.
    pub fn from_keras(identifier: &Value) -> Result<Self> {
        let init = Self(ko::resolve(SPECS, "initializer", identifier)?);
        init.validate()?;
        Ok(init)
    }

    /// [`Initializer::from_keras`] for a bare name such as `"he_normal"`.
    ///
    /// # Errors
    /// As [`Initializer::from_keras`].
    pub fn get(name: &str) -> Result<Self> {
        Self::from_keras(&Value::String(name.to_string()))
    }

    /// Keras's serialized form, as `get_config()` writes it.
    pub fn to_keras(&self) -> Value {
        ko::serialize("keras.initializers", self.0.class, &self.0.config)
    }

    /// The Keras class name (`GlorotUniform`, ...).
    pub fn class_name(&self) -> &'static str {
        self.0.class
    }

    /// The `seed` of the config, if set.
    pub fn seed(&self) -> Option<u64> {
        ko::optional_u64(self.0.class, &self.0.config, "seed").ok().flatten()
    }

    fn validate(&self) -> Result<()> {
        let c = &self.0.config;
        let class = self.0.class;
        if self.0.config.contains_key("seed") {
            ko::optional_u64(class, c, "seed")?;
        }
        for key in ["input_axes", "output_axes"] {
            if c.contains_key(key) {
                ko::optional_axes(class, c, key)?;
            }
        }
        match self.0.kind {
            Kind::Constant => {
                ko::number(class, c, "value")?;
            }
            Kind::RandomNormal | Kind::TruncatedNormal => {
                ko::number(class, c, "mean")?;
                ko::number(class, c, "stddev")?;
            }
            Kind::RandomUniform => {
                ko::number(class, c, "minval")?;
                ko::number(class, c, "maxval")?;
            }
            Kind::Orthogonal => {
                ko::number(class, c, "gain")?;
            }
            Kind::VarianceScaling => {
                self.scaling()?;
            }
            _ => {}
        }
        Ok(())
    }

    fn scaling(&self) -> Result<Scaling> {
        let fixed = |scale: f64, mode: &str, distribution: &str| Scaling {
            scale,
            mode: mode.into(),
            distribution: distribution.into(),
        };
        Ok(match self.0.kind {
            Kind::GlorotUniform => fixed(1.0, "fan_avg", "uniform"),
            Kind::GlorotNormal => fixed(1.0, "fan_avg", "truncated_normal"),
            Kind::HeUniform => fixed(2.0, "fan_in", "uniform"),
            Kind::HeNormal => fixed(2.0, "fan_in", "truncated_normal"),
            Kind::LecunUniform => fixed(1.0, "fan_in", "uniform"),
            Kind::LecunNormal => fixed(1.0, "fan_in", "truncated_normal"),
            _ => {
                let (class, c) = (self.0.class, &self.0.config);
                let scale = ko::number(class, c, "scale")?;
                if scale.is_nan() || scale <= 0.0 {
                    return Err(Error::InvalidArgument(format!(
                        "Argument `scale` must be positive float. Received: scale={}",
                        crate::error::format::py_float(scale)
                    )));
                }
                let mode = ko::string(class, c, "mode")?;
                if !["fan_in", "fan_out", "fan_avg"].contains(&mode) {
                    return Err(Error::InvalidArgument(format!(
                        "Invalid `mode` argument: {mode}. Please use one of {{'fan_in', 'fan_out', 'fan_avg'}}"
                    )));
                }
                let mut distribution = ko::string(class, c, "distribution")?.to_lowercase();
                if distribution == "normal" {
                    distribution = "truncated_normal".into();
                }
                if !["uniform", "truncated_normal", "untruncated_normal"].contains(&distribution.as_str()) {
                    return Err(Error::InvalidArgument(format!(
                        "Invalid `distribution` argument: {distribution}.Please use one of {{'uniform', 'truncated_normal', 'untruncated_normal'}}"
                    )));
                }
                fixed(scale, mode, &distribution)
            }
        })
    }

    /// Weights of `shape` drawn from this initializer. The config's `seed` wins over `seed`;
    /// with neither, the draw is random.
    ///
    /// # Errors
    /// Keras's errors for shapes an initializer cannot fill (Identity needs 2-D, STFT 3-D).
    pub fn sample(&self, shape: &[usize], seed: Option<u64>) -> Result<Vec<f32>> {
        let len: usize = shape.iter().product();
        let mut rng = match self.seed().or(seed) {
            Some(s) => Rng::new(s),
            None => Rng::from_entropy(),
        };
        let (class, c) = (self.0.class, &self.0.config);
        let values: Vec<f64> = match self.0.kind {
            Kind::Zeros => vec![0.0; len],
            Kind::Ones => vec![1.0; len],
            Kind::Constant => vec![ko::number(class, c, "value")?; len],
            Kind::Identity => {
                return Err(Error::InvalidArgument(format!(
                    "Identity matrix initializer can only be used for 2D matrices. Received: shape={} of rank {}.",
                    py_shape(shape),
                    shape.len()
                )))
            }
            Kind::Stft => {
                return Err(Error::Unsupported(format!(
                    "the STFT initializer fills Conv1D kernels of rank 3; a Conv2D kernel has shape {}",
                    py_shape(shape)
                )))
            }
            Kind::Base => {
                return Err(Error::Unsupported(
                    "`Initializer` is Keras's abstract base class: it cannot create weights".into(),
                ))
            }
            Kind::RandomNormal => {
                let (m, s) = (ko::number(class, c, "mean")?, ko::number(class, c, "stddev")?);
                (0..len).map(|_| m + s * rng.normal()).collect()
            }
            Kind::TruncatedNormal => {
                let (m, s) = (ko::number(class, c, "mean")?, ko::number(class, c, "stddev")?);
                (0..len).map(|_| m + s * rng.truncated_normal()).collect()
            }
            Kind::RandomUniform => {
                let (lo, hi) = (ko::number(class, c, "minval")?, ko::number(class, c, "maxval")?);
                (0..len).map(|_| rng.uniform_in(lo, hi)).collect()
            }
            Kind::Orthogonal => orthogonal(shape, ko::number(class, c, "gain")?, &mut rng)?,
            _ => self.variance_scaling(shape, len, &mut rng)?,
        };
        Ok(values.into_iter().map(|v| v as f32).collect())
    }

    fn variance_scaling(&self, shape: &[usize], len: usize, rng: &mut Rng) -> Result<Vec<f64>> {
        let Scaling {
            scale,
            mode,
            distribution,
        } = self.scaling()?;
        let (fan_in, fan_out) = self.fans(shape)?;
        let n = match mode.as_str() {
            "fan_in" => fan_in,
            "fan_out" => fan_out,
            _ => (fan_in + fan_out) / 2.0,
        };
        let scale = scale / n.max(1.0);
        Ok(match distribution.as_str() {
            "truncated_normal" => {
                let stddev = scale.sqrt() / 0.879_625_661_034_239_8;
                (0..len).map(|_| stddev * rng.truncated_normal()).collect()
            }
            "untruncated_normal" => (0..len).map(|_| scale.sqrt() * rng.normal()).collect(),
            _ => {
                let limit = (3.0 * scale).sqrt();
                (0..len).map(|_| rng.uniform_in(-limit, limit)).collect()
            }
        })
    }

    /// Keras `compute_fans`: conv kernels `(..., cin, F)` give `fan_in = cin·receptive`, `fan_out = F·receptive`.
    fn fans(&self, shape: &[usize]) -> Result<(f64, f64)> {
        let (class, c) = (self.0.class, &self.0.config);
        let axes_in = ko::optional_axes(class, c, "input_axes").unwrap_or(None);
        let axes_out = ko::optional_axes(class, c, "output_axes").unwrap_or(None);
        if let (Some(ins), Some(outs)) = (axes_in, axes_out) {
            let prod = |axes: &[i64]| -> Result<f64> {
                axes.iter().try_fold(1.0, |acc, &a| {
                    Ok(acc * shape[ko::normalize_axis(a, shape.len(), class)?] as f64)
                })
            };
            return Ok((prod(&ins)?, prod(&outs)?));
        }
        Ok(match shape.len() {
            0 => (1.0, 1.0),
            1 => (shape[0] as f64, shape[0] as f64),
            2 => (shape[0] as f64, shape[1] as f64),
            r => {
                let receptive: usize = shape[..r - 2].iter().product();
                ((shape[r - 2] * receptive) as f64, (shape[r - 1] * receptive) as f64)
            }
        })
    }
}

/// Keras `Orthogonal`: QR of a normal `(max(rows, cols), min(rows, cols))` matrix, `rows = prod(shape[:-1])`.
fn orthogonal(shape: &[usize], gain: f64, rng: &mut Rng) -> Result<Vec<f64>> {
    if shape.len() < 2 {
        return Err(Error::InvalidArgument(format!(
            "The tensor to initialize must be at least two-dimensional. Received: shape={} of rank {}.",
            py_shape(shape),
            shape.len()
        )));
    }
    let rows: usize = shape[..shape.len() - 1].iter().product();
    let cols = shape[shape.len() - 1];
    let (m, n) = (rows.max(cols), rows.min(cols));
    // Column-major columns of an m×n normal matrix, orthonormalised by modified Gram–Schmidt,
    // which yields R with a positive diagonal (Keras's `q *= sign(diag(r))`).
    let mut q: Vec<Vec<f64>> = (0..n).map(|_| (0..m).map(|_| rng.normal()).collect()).collect();
    for j in 0..n {
        for i in 0..j {
            let (done, rest) = q.split_at_mut(j);
            let dot: f64 = done[i].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
            rest[0].iter_mut().zip(&done[i]).for_each(|(b, a)| *b -= dot * a);
        }
        let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        q[j].iter_mut().for_each(|v| *v /= norm);
    }
    let mut out = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Q is m×n; when rows < cols Keras transposes it to rows×cols.
            out[r * cols + c] = gain * if rows >= cols { q[c][r] } else { q[r][c] };
        }
    }
    Ok(out)
}

impl Default for Initializer {
    /// `glorot_uniform`, Keras's default kernel initializer.
    fn default() -> Self {
        Self::get("glorot_uniform").expect("built-in name")
    }
}
