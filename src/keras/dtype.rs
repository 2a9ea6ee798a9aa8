//! Keras's dtype policies: the compute and variable dtypes a layer runs with, parsed from every
//! spelling Keras writes or accepts, and the rounding to each float type.

use serde_json::{json, Value};

use crate::error::{Error, Result};

/// A floating-point type a policy computes or stores in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FloatType {
    /// IEEE binary32.
    #[default]
    Float32,
    /// IEEE binary16 (largest finite 65504; beyond that, inf).
    Float16,
    /// bfloat16: binary32's range with 8 significant bits.
    BFloat16,
}

impl FloatType {
    /// Keras's name (`float16`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Float16 => "float16",
            Self::BFloat16 => "bfloat16",
        }
    }

    /// `v` rounded to this type (to nearest, ties to even; inf past the largest finite value).
    pub fn round(self, v: f64) -> f64 {
        match self {
            Self::Float32 => v as f32 as f64,
            Self::Float16 => half::f16::from_f64(v).to_f64(),
            Self::BFloat16 => half::bf16::from_f64(v).to_f64(),
        }
    }

    /// `v` rounded to this type, as an f32 (exact: both half types are subsets of f32).
    pub fn round_f32(self, v: f32) -> f32 {
        match self {
            Self::Float32 => v,
            Self::Float16 => half::f16::from_f32(v).to_f32(),
            Self::BFloat16 => half::bf16::from_f32(v).to_f32(),
        }
    }

    /// Every value of `values` rounded in place.
    pub fn round_all(self, values: &mut [f32]) {
        if self != Self::Float32 {
            values.iter_mut().for_each(|v| *v = self.round_f32(*v));
        }
    }

    /// `values` rounded, copied only when this type rounds anything.
    pub fn round_all_cow(self, values: &mut std::borrow::Cow<'_, [f32]>) {
        if self != Self::Float32 {
            self.round_all(values.to_mut());
        }
    }

    /// The gap between 1 and the next value of this type (2^-23, 2^-10, 2^-7): one unit in the
    /// last place at 1, the scale of the half-precision tolerances.
    pub fn epsilon(self) -> f64 {
        match self {
            Self::Float32 => f32::EPSILON as f64,
            Self::Float16 => half::f16::EPSILON.to_f64(),
            Self::BFloat16 => half::bf16::EPSILON.to_f64(),
        }
    }
}

/// A Keras dtype policy for float computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DtypePolicy {
    /// `float32`: variables and computation in float32.
    #[default]
    Float32,
    /// `mixed_float16`: float32 variables, float16 computation.
    MixedFloat16,
    /// `float16`: float16 variables and computation.
    Float16,
    /// `mixed_bfloat16`: float32 variables, bfloat16 computation.
    MixedBFloat16,
    /// `bfloat16`: bfloat16 variables and computation.
    BFloat16,
}

impl DtypePolicy {
    /// Every policy.
    pub const ALL: [DtypePolicy; 5] = [
        Self::Float32,
        Self::MixedFloat16,
        Self::Float16,
        Self::MixedBFloat16,
        Self::BFloat16,
    ];

    /// Keras's name (`mixed_float16`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::MixedFloat16 => "mixed_float16",
            Self::Float16 => "float16",
            Self::MixedBFloat16 => "mixed_bfloat16",
            Self::BFloat16 => "bfloat16",
        }
    }

    /// Keras's `layer.compute_dtype`: inputs, the kernel and the bias are cast to it, and the
    /// output (activation included) is in it.
    pub fn compute_dtype(self) -> FloatType {
        match self {
            Self::Float32 => FloatType::Float32,
            Self::MixedFloat16 | Self::Float16 => FloatType::Float16,
            Self::MixedBFloat16 | Self::BFloat16 => FloatType::BFloat16,
        }
    }

    /// Keras's `layer.variable_dtype`: what the kernel and bias are stored in.
    pub fn variable_dtype(self) -> FloatType {
        match self {
            Self::Float32 | Self::MixedFloat16 | Self::MixedBFloat16 => FloatType::Float32,
            Self::Float16 => FloatType::Float16,
            Self::BFloat16 => FloatType::BFloat16,
        }
    }

    /// The policy named `name`, with Keras's message for a name it does not know.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a name that is no policy; [`Error::Unsupported`] for the
    /// policies Keras has but this crate does not compute (float64, the quantized ones).
    pub fn from_name(name: &str) -> Result<Self> {
        if let Some(p) = Self::ALL.into_iter().find(|p| p.name() == name) {
            return Ok(p);
        }
        let quantized = ["int8", "int4", "float8", "gptq"]
            .iter()
            .any(|q| name.starts_with(q) || name.contains(&format!("{q}_from_")));
        if name == "float64" || quantized {
            return Err(Error::Unsupported(format!(
                "dtype policy '{name}': this crate computes Conv2D in the float32, mixed_float16, \
                 float16, mixed_bfloat16 and bfloat16 policies"
            )));
        }
        Err(Error::InvalidArgument(format!(
            "Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include \
             'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as 'float32'."
        )))
    }

    /// The policy a config's `dtype` holds: null (float32), a name, or the serialized
    /// `DTypePolicy` / `FloatDTypePolicy` object Keras writes.
    ///
    /// # Errors
    /// As [`DtypePolicy::from_name`]; [`Error::InvalidJson`] for another shape of value.
    pub fn from_keras(value: &Value) -> Result<Self> {
        let bad = |message: String| Error::InvalidJson {
            key: "dtype".into(),
            message,
        };
        match value {
            Value::Null => Ok(Self::Float32),
            Value::String(name) => Self::from_name(name),
            Value::Object(o) => {
                let class = o.get("class_name").and_then(Value::as_str).unwrap_or("");
                if class != "DTypePolicy" && class != "FloatDTypePolicy" {
                    return Err(bad(format!(
                        "expected a \"DTypePolicy\" or \"FloatDTypePolicy\" object, received class_name {}",
                        o.get("class_name").unwrap_or(&Value::Null)
                    )));
                }
                match o.get("config").and_then(|c| c.get("name")) {
                    Some(Value::String(name)) => Self::from_name(name),
                    other => Err(bad(format!(
                        "expected config.name to be a policy name, received {}",
                        other.unwrap_or(&Value::Null)
                    ))),
                }
            }
            other => Err(bad(format!("expected a policy name or object, received {other}"))),
        }
    }

    /// The policy as Keras's `get_config()` writes it (FloatDTypePolicy is written as DTypePolicy,
    /// as Keras 3 does).
    pub fn to_keras(self) -> Value {
        json!({"module": "keras", "class_name": "DTypePolicy", "config": {"name": self.name()}, "registered_name": null})
    }
}

impl std::fmt::Display for DtypePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_and_writes_back_as_keras_does() {
        for p in DtypePolicy::ALL {
            assert_eq!(DtypePolicy::from_keras(&json!(p.name())).unwrap(), p);
            for class in ["DTypePolicy", "FloatDTypePolicy"] {
                let v = json!({"module": "keras", "class_name": class, "config": {"name": p.name()}, "registered_name": null});
                assert_eq!(DtypePolicy::from_keras(&v).unwrap(), p);
            }
            assert_eq!(DtypePolicy::from_keras(&p.to_keras()).unwrap(), p);
        }
        assert_eq!(DtypePolicy::from_keras(&Value::Null).unwrap(), DtypePolicy::Float32);
        let e = DtypePolicy::from_name("xyz").unwrap_err().to_string();
        assert!(
            e.starts_with("Cannot convert 'xyz' to a mixed precision DTypePolicy."),
            "{e}"
        );
        assert!(matches!(DtypePolicy::from_name("float64"), Err(Error::Unsupported(_))));
        assert!(matches!(
            DtypePolicy::from_name("int8_from_float32"),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn rounding_is_to_nearest_even_with_inf_past_the_range() {
        let f16 = FloatType::Float16;
        assert_eq!(f16.round(65504.0), 65504.0);
        assert_eq!(f16.round(65519.0), 65504.0);
        assert_eq!(f16.round(65520.0), f64::INFINITY);
        assert_eq!(f16.round(-1e6), f64::NEG_INFINITY);
        assert_eq!(f16.round(1.0 + 1.0 / 2048.0), 1.0); // a tie goes to the even neighbour
        assert_eq!(f16.round(2f64.powi(-24)), 2f64.powi(-24)); // the smallest subnormal
        assert_eq!(f16.round(2f64.powi(-26)), 0.0);
        let bf16 = FloatType::BFloat16;
        assert_eq!(bf16.round(1.0 + 1.0 / 256.0), 1.0);
        assert_eq!(bf16.round(1.0 + 3.0 / 256.0), 1.0 + 4.0 / 256.0);
        assert_eq!(bf16.round(f32::MAX as f64), f64::INFINITY);
    }
}
