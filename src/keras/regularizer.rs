//! Keras weight regularizers (L1, L2, L1L2, OrthogonalRegularizer) and their penalty values.

use serde_json::Value;

use crate::error::format::{py_float, py_shape};
use crate::error::{Error, Result};
use crate::keras::object::{self as ko, ClassSpec, Resolved};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    L1,
    L2,
    L1L2,
    Orthogonal,
    Base,
}

// `l1_l2` is deliberately absent: `keras.regularizers.get` does not accept it.
// L1's and OrthogonalRegularizer's defaults are float32 tensors in Keras, so they serialise rounded.
const SPECS: &[ClassSpec<Kind>] = &[
    ClassSpec {
        kind: Kind::L1,
        class: "L1",
        names: &["l1"],
        defaults: r#"{"l1": 0.009999999776482582}"#,
    },
    ClassSpec {
        kind: Kind::L2,
        class: "L2",
        names: &["l2"],
        defaults: r#"{"l2": 0.01}"#,
    },
    ClassSpec {
        kind: Kind::L1L2,
        class: "L1L2",
        names: &["l1l2"],
        defaults: r#"{"l1": 0.0, "l2": 0.0}"#,
    },
    ClassSpec {
        kind: Kind::Orthogonal,
        class: "OrthogonalRegularizer",
        names: &["orthogonal_regularizer"],
        defaults: r#"{"factor": 0.009999999776482582, "mode": "rows"}"#,
    },
    ClassSpec {
        kind: Kind::Base,
        class: "Regularizer",
        names: &["regularizer"],
        defaults: "{}",
    },
];

/// A Keras regularizer: adds a penalty on a weight (or, as `activity_regularizer`, on the output).
#[derive(Debug, Clone, PartialEq)]
pub struct Regularizer(Resolved<Kind>);

impl Regularizer {
    /// What `keras.regularizers.get` does with a string or serialized dict.
    ///
    /// # Errors
    /// [`Error::UnknownIdentifier`], or Keras's `Invalid value for argument l1: ...` for a negative,
    /// infinite or NaN penalty.
    pub fn from_keras(identifier: &Value) -> Result<Self> {
        let mut reg = Self(ko::resolve(SPECS, "regularizer", identifier)?);
        let class = reg.0.class;
        for key in ["l1", "l2", "factor"] {
            let Some(v) = reg.0.config.get(key) else { continue };
            let x = v.as_f64().filter(|x| x.is_finite() && *x >= 0.0).ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "Invalid value for argument {key}: expected a non-negative float.Received: {key}={}",
                    v.as_f64().map_or_else(|| v.to_string(), py_float)
                ))
            })?;
            // Keras keeps L1.l1 and the orthogonal factor as float32 tensors and writes `float(tensor)`.
            let stored = if key == "l2" || class == "L1L2" {
                x
            } else {
                x as f32 as f64
            };
            reg.0.config.insert(key.into(), stored.into());
        }
        if reg.0.kind == Kind::Orthogonal {
            let mode = ko::string(class, &reg.0.config, "mode")?;
            if mode != "rows" && mode != "columns" {
                return Err(Error::InvalidArgument(format!(
                    "Invalid value for argument `mode`. Expected one of {{\"rows\", \"columns\"}}. Received: mode={mode}"
                )));
            }
        }
        Ok(reg)
    }

    /// [`Regularizer::from_keras`] for a bare name such as `"l2"`.
    ///
    /// # Errors
    /// As [`Regularizer::from_keras`].
    pub fn get(name: &str) -> Result<Self> {
        Self::from_keras(&Value::String(name.to_string()))
    }

    /// Keras's serialized form.
    pub fn to_keras(&self) -> Value {
        ko::serialize("keras.regularizers", self.0.class, &self.0.config)
    }

    /// The penalty on `values` of `shape` (f64 sums).
    ///
    /// # Errors
    /// `Inputs to OrthogonalRegularizer must have rank 2. ...` for an OrthogonalRegularizer on
    /// anything but a matrix, as Keras raises for 4-D conv kernels.
    pub fn penalty(&self, values: &[f32], shape: &[usize]) -> Result<f64> {
        let c = &self.0.config;
        let get = |k: &str| c.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let l1 = || values.iter().map(|&v| (v as f64).abs()).sum::<f64>();
        let l2 = || values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        Ok(match self.0.kind {
            Kind::L1 => get("l1") * l1(),
            Kind::L2 => get("l2") * l2(),
            Kind::L1L2 => get("l1") * l1() + get("l2") * l2(),
            Kind::Base => 0.0,
            Kind::Orthogonal => {
                if shape.len() != 2 {
                    return Err(Error::InvalidArgument(format!(
                        "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={}",
                        py_shape(shape)
                    )));
                }
                orthogonal_penalty(values, shape[0], shape[1], get("factor"), c["mode"] == "rows")
            }
        })
    }
}

/// `factor · 0.5 · Σ|offdiag(N Nᵀ)| / (size(size−1)/2)` with rows (or columns) L2-normalised.
fn orthogonal_penalty(values: &[f32], rows: usize, cols: usize, factor: f64, by_rows: bool) -> f64 {
    let at = |i: usize, j: usize| values[i * cols + j] as f64;
    let (count, len) = if by_rows { (rows, cols) } else { (cols, rows) };
    let vector = |a: usize| -> Vec<f64> {
        let v: Vec<f64> = (0..len).map(|b| if by_rows { at(a, b) } else { at(b, a) }).collect();
        // Keras `normalize` divides by max(norm, epsilon) with epsilon 1e-12 on the squared sum.
        let norm = v.iter().map(|x| x * x).sum::<f64>().max(1e-12).sqrt();
        v.into_iter().map(|x| x / norm).collect()
    };
    let vs: Vec<Vec<f64>> = (0..count).map(vector).collect();
    let mut off = 0.0;
    for i in 0..count {
        for j in 0..count {
            if i != j {
                off += vs[i].iter().zip(&vs[j]).map(|(a, b)| a * b).sum::<f64>().abs();
            }
        }
    }
    let pairs = count as f64 * (count as f64 - 1.0) / 2.0;
    factor * 0.5 * off / pairs
}
