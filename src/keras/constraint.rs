//! Keras weight constraints (max_norm, non_neg, unit_norm, min_max_norm), applied on request.

use serde_json::Value;

use crate::error::Result;
use crate::keras::object::{self as ko, ClassSpec, Resolved};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MaxNorm,
    NonNeg,
    UnitNorm,
    MinMaxNorm,
    Base,
}

const SPECS: &[ClassSpec<Kind>] = &[
    ClassSpec {
        kind: Kind::MaxNorm,
        class: "MaxNorm",
        names: &["max_norm"],
        defaults: r#"{"max_value": 2, "axis": 0}"#,
    },
    ClassSpec {
        kind: Kind::NonNeg,
        class: "NonNeg",
        names: &["non_neg"],
        defaults: "{}",
    },
    ClassSpec {
        kind: Kind::UnitNorm,
        class: "UnitNorm",
        names: &["unit_norm"],
        defaults: r#"{"axis": 0}"#,
    },
    ClassSpec {
        kind: Kind::MinMaxNorm,
        class: "MinMaxNorm",
        names: &["min_max_norm"],
        defaults: r#"{"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}"#,
    },
    ClassSpec {
        kind: Kind::Base,
        class: "Constraint",
        names: &["constraint"],
        defaults: "{}",
    },
];

/// Keras's `backend.epsilon()`.
const EPSILON: f64 = 1e-7;

/// A Keras constraint: a projection the optimizer applies to a weight after each update.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint(Resolved<Kind>);

impl Constraint {
    /// What `keras.constraints.get` does with a string or serialized dict.
    ///
    /// # Errors
    /// [`crate::Error::UnknownIdentifier`], or an invalid-JSON error for a non-numeric argument.
    pub fn from_keras(identifier: &Value) -> Result<Self> {
        let c = Self(ko::resolve(SPECS, "constraint", identifier)?);
        let (class, cfg) = (c.0.class, &c.0.config);
        for key in ["max_value", "min_value", "rate"] {
            if cfg.contains_key(key) {
                ko::number(class, cfg, key)?;
            }
        }
        if cfg.contains_key("axis") {
            ko::optional_axes(class, cfg, "axis")?;
        }
        Ok(c)
    }

    /// [`Constraint::from_keras`] for a bare name such as `"max_norm"`.
    ///
    /// # Errors
    /// As [`Constraint::from_keras`].
    pub fn get(name: &str) -> Result<Self> {
        Self::from_keras(&Value::String(name.to_string()))
    }

    /// Keras's serialized form.
    pub fn to_keras(&self) -> Value {
        ko::serialize("keras.constraints", self.0.class, &self.0.config)
    }

    /// The constrained weight: `values` (row-major, `shape`) projected as Keras does.
    ///
    /// # Errors
    /// An axis outside the weight's rank.
    pub fn apply(&self, values: &[f32], shape: &[usize]) -> Result<Vec<f32>> {
        let (class, cfg) = (self.0.class, &self.0.config);
        let num = |k| ko::number(class, cfg, k);
        let scale: Box<dyn Fn(f64) -> f64> = match self.0.kind {
            Kind::Base => return Ok(values.to_vec()),
            Kind::NonNeg => return Ok(values.iter().map(|&v| v.max(0.0)).collect()),
            Kind::UnitNorm => Box::new(|n| 1.0 / (EPSILON + n)),
            Kind::MaxNorm => {
                let max = num("max_value")?;
                Box::new(move |n| n.clamp(0.0, max) / (EPSILON + n))
            }
            Kind::MinMaxNorm => {
                let (lo, hi, rate) = (num("min_value")?, num("max_value")?, num("rate")?);
                Box::new(move |n| (rate * n.clamp(lo, hi) + (1.0 - rate) * n) / (EPSILON + n))
            }
        };
        let axes = ko::optional_axes(class, cfg, "axis")?.unwrap_or_else(|| vec![0]);
        let reduced: Vec<bool> = {
            let mut r = vec![false; shape.len()];
            for a in axes {
                r[ko::normalize_axis(a, shape.len(), class)?] = true;
            }
            r
        };
        // Sum of squares per kept-axes index; the reduced axes collapse to 0.
        let strides: Vec<usize> = (0..shape.len()).map(|i| shape[i + 1..].iter().product()).collect();
        let key = |flat: usize| -> usize {
            (0..shape.len())
                .filter(|&d| !reduced[d])
                .fold(0, |acc, d| acc * shape[d] + (flat / strides[d]) % shape[d])
        };
        let kept: usize = (0..shape.len()).filter(|&d| !reduced[d]).map(|d| shape[d]).product();
        let mut sums = vec![0.0f64; kept];
        for (i, &v) in values.iter().enumerate() {
            sums[key(i)] += (v as f64) * (v as f64);
        }
        let factors: Vec<f64> = sums.iter().map(|s| scale(s.sqrt())).collect();
        Ok(values
            .iter()
            .enumerate()
            .map(|(i, &v)| (v as f64 * factors[key(i)]) as f32)
            .collect())
    }
}
