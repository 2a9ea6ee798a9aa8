//! `Conv2dConfig`: every Keras Conv2D argument with Keras's defaults, its builder and validation.

use serde_json::{Number, Value};

use crate::conv::{ConvParams, DataFormat, Padding};
use crate::error::{Error, Result};
use crate::keras::activation::Activation;
use crate::keras::constraint::Constraint;
use crate::keras::dtype::DtypePolicy;
use crate::keras::initializer::Initializer;
use crate::keras::regularizer::Regularizer;

/// An int-or-pair argument as received (`kernel_size=3`, `(3, 3)`, `[3, 3]`), before validation.
/// Keeping the form lets error messages print the value exactly as Keras does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntArg {
    /// A single integer, repeated for both axes.
    Int(i64),
    /// A Python tuple (printed `(1, 0)`).
    Tuple(Vec<i64>),
    /// A JSON/Python list (printed `[1, 0]`).
    List(Vec<i64>),
}

impl IntArg {
    fn shown(&self) -> String {
        let join = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        match self {
            Self::Int(v) => v.to_string(),
            Self::Tuple(v) if v.len() == 1 => format!("({},)", v[0]),
            Self::Tuple(v) => format!("({})", join(v)),
            Self::List(v) => format!("[{}]", join(v)),
        }
    }

    /// Keras's `standardize_tuple(value, 2, name)`: two integers, each `> 0`.
    pub(crate) fn standardize(&self, argument: &'static str) -> Result<[u32; 2]> {
        let values = match self {
            Self::Int(v) => vec![*v, *v],
            Self::Tuple(v) | Self::List(v) => v.clone(),
        };
        let invalid = |detail: String| Error::InvalidTuple {
            argument,
            received: self.shown(),
            detail,
        };
        if values.len() != 2 {
            return Err(invalid(String::new()));
        }
        let mut bad: Vec<i64> = values.iter().copied().filter(|v| *v <= 0).collect();
        bad.dedup();
        if !bad.is_empty() {
            // CPython iterates a small int set in hash-slot order; hash(-1) == -2.
            bad.sort_by_key(|v| if *v == -1 { -2i64 } else { *v }.rem_euclid(8));
            let set = bad.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            return Err(invalid(format!(
                ", including values {{{set}}} that do not satisfy `value > 0`"
            )));
        }
        values
            .iter()
            .map(|&v| {
                u32::try_from(v).map_err(|_| Error::InvalidArgument(format!("`{argument}` value {v} is too large")))
            })
            .collect::<Result<Vec<u32>>>()
            .map(|v| [v[0], v[1]])
    }
}

macro_rules! int_arg_from {
    ($($t:ty),*) => {$(
        impl From<$t> for IntArg {
            fn from(v: $t) -> Self { Self::Int(v as i64) }
        }
        impl From<($t, $t)> for IntArg {
            fn from(v: ($t, $t)) -> Self { Self::Tuple(vec![v.0 as i64, v.1 as i64]) }
        }
        impl From<[$t; 2]> for IntArg {
            fn from(v: [$t; 2]) -> Self { Self::Tuple(vec![v[0] as i64, v[1] as i64]) }
        }
    )*};
}
int_arg_from!(i32, i64, u32, usize);

/// A validated Keras Conv2D configuration (`keras.layers.Conv2D(...)` arguments).
///
/// Build it with [`Conv2dConfig::builder`] or read it with [`Conv2dConfig::from_keras_json`];
/// both validate in Keras's order with Keras's messages. Fields are public for reading and
/// for editing; [`Conv2dConfig::validate`] re-checks the numeric invariants after an edit.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dConfig {
    /// Keras: `name` (default `"conv2d"`).
    pub name: String,
    /// Keras: `trainable`.
    pub trainable: bool,
    /// Keras: `dtype`, the dtype policy (its compute and variable dtypes).
    pub dtype: DtypePolicy,
    /// Keras: `filters`.
    pub filters: u32,
    /// Keras: `kernel_size`.
    pub kernel_size: [u32; 2],
    /// Keras: `strides`.
    pub strides: [u32; 2],
    /// Keras: `padding`.
    pub padding: Padding,
    /// Keras: `data_format`.
    pub data_format: DataFormat,
    /// Keras: `dilation_rate`.
    pub dilation_rate: [u32; 2],
    /// Keras: `groups`.
    pub groups: u32,
    /// Keras: `activation`.
    pub activation: Activation,
    /// Keras: `use_bias`.
    pub use_bias: bool,
    /// Keras: `kernel_initializer`.
    pub kernel_initializer: Initializer,
    /// Keras: `bias_initializer`.
    pub bias_initializer: Initializer,
    /// Keras: `kernel_regularizer`.
    pub kernel_regularizer: Option<Regularizer>,
    /// Keras: `bias_regularizer`.
    pub bias_regularizer: Option<Regularizer>,
    /// Keras: `activity_regularizer`.
    pub activity_regularizer: Option<Regularizer>,
    /// Keras: `kernel_constraint`.
    pub kernel_constraint: Option<Constraint>,
    /// Keras: `bias_constraint`.
    pub bias_constraint: Option<Constraint>,
    /// Keras: `lora_rank` (LoRA is enabled at build when set).
    pub lora_rank: Option<u32>,
    /// Keras: `lora_alpha`, as written (defaults to the rank).
    pub lora_alpha: Option<Number>,
}

/// The arguments as received, before Keras's checks: shared by the builder and the JSON reader.
#[derive(Debug, Clone)]
pub(crate) struct RawArgs {
    pub name: String,
    pub trainable: bool,
    pub dtype: Value,
    pub filters: i64,
    pub kernel_size: IntArg,
    pub strides: IntArg,
    pub padding: String,
    pub data_format: Option<String>,
    pub dilation_rate: IntArg,
    pub groups: i64,
    pub activation: Option<String>,
    pub use_bias: bool,
    pub kernel_initializer: Value,
    pub bias_initializer: Value,
    pub kernel_regularizer: Value,
    pub bias_regularizer: Value,
    pub activity_regularizer: Value,
    pub kernel_constraint: Value,
    pub bias_constraint: Value,
    pub lora_rank: Option<i64>,
    pub lora_alpha: Option<Number>,
}

impl RawArgs {
    pub(crate) fn new(filters: i64, kernel_size: IntArg) -> Self {
        Self {
            name: "conv2d".into(),
            trainable: true,
            dtype: serde_json::json!({"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}),
            filters,
            kernel_size,
            strides: IntArg::Int(1),
            padding: "valid".into(),
            data_format: None,
            dilation_rate: IntArg::Int(1),
            groups: 1,
            activation: None,
            use_bias: true,
            kernel_initializer: "glorot_uniform".into(),
            bias_initializer: "zeros".into(),
            kernel_regularizer: Value::Null,
            bias_regularizer: Value::Null,
            activity_regularizer: Value::Null,
            kernel_constraint: Value::Null,
            bias_constraint: Value::Null,
            lora_rank: None,
            lora_alpha: None,
        }
    }

    /// Keras's `BaseConv.__init__`, check for check, in its order.
    pub(crate) fn validate(self) -> Result<Conv2dConfig> {
        let optional = |v: &Value, f: fn(&Value) -> Result<Regularizer>| -> Result<Option<Regularizer>> {
            if v.is_null() {
                Ok(None)
            } else {
                f(v).map(Some)
            }
        };
        // Layer.__init__ runs first and resolves the activity regularizer.
        let activity_regularizer = optional(&self.activity_regularizer, Regularizer::from_keras)?;
        let dtype = DtypePolicy::from_keras(&self.dtype)?;
        let kernel_size = self.kernel_size.standardize("kernel_size")?;
        let strides = self.strides.standardize("strides")?;
        let dilation_rate = self.dilation_rate.standardize("dilation_rate")?;
        let padding = Padding::parse(&self.padding)?;
        let data_format = self
            .data_format
            .as_deref()
            .map_or(Ok(DataFormat::ChannelsLast), DataFormat::parse)?;
        let activation = self
            .activation
            .as_deref()
            .map_or(Ok(Activation::Linear), Activation::from_name)?;
        let kernel_initializer = Initializer::from_keras(&self.kernel_initializer)?;
        let bias_initializer = Initializer::from_keras(&self.bias_initializer)?;
        let kernel_regularizer = optional(&self.kernel_regularizer, Regularizer::from_keras)?;
        let bias_regularizer = optional(&self.bias_regularizer, Regularizer::from_keras)?;
        let constraint = |v: &Value| {
            if v.is_null() {
                Ok(None)
            } else {
                Constraint::from_keras(v).map(Some)
            }
        };
        let kernel_constraint = constraint(&self.kernel_constraint)?;
        let bias_constraint = constraint(&self.bias_constraint)?;
        if self.filters <= 0 {
            return Err(Error::InvalidFilters(self.filters));
        }
        if self.groups <= 0 {
            return Err(Error::InvalidGroups(self.groups));
        }
        if self.filters % self.groups != 0 {
            return Err(Error::FiltersNotDivisibleByGroups {
                groups: self.groups,
                filters: self.filters,
            });
        }
        if strides.iter().max() > Some(&1) && dilation_rate.iter().max() > Some(&1) {
            return Err(Error::StridesWithDilation { strides, dilation_rate });
        }
        let too_large = |what: &str, v: i64| Error::InvalidArgument(format!("`{what}` value {v} is too large"));
        let lora_rank = match self.lora_rank {
            None => None,
            Some(r) if r > 0 => Some(u32::try_from(r).map_err(|_| too_large("lora_rank", r))?),
            Some(r) => {
                return Err(Error::InvalidArgument(format!(
                "Invalid value for argument `lora_rank`. Expected a strictly positive integer. Received lora_rank={r}."
            )))
            }
        };
        let lora_alpha = lora_rank.map(|r| self.lora_alpha.unwrap_or_else(|| r.into()));
        Ok(Conv2dConfig {
            name: self.name,
            trainable: self.trainable,
            dtype,
            filters: u32::try_from(self.filters).map_err(|_| too_large("filters", self.filters))?,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups: u32::try_from(self.groups).map_err(|_| too_large("groups", self.groups))?,
            activation,
            use_bias: self.use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            lora_rank,
            lora_alpha,
        })
    }
}

impl Conv2dConfig {
    /// Re-checks the invariants of the numeric fields, with Keras's messages.
    ///
    /// # Errors
    /// The first [`Error`] Keras would raise for these values.
    pub fn validate(&self) -> Result<()> {
        let pair = |v: [u32; 2]| IntArg::Tuple(vec![v[0] as i64, v[1] as i64]);
        pair(self.kernel_size).standardize("kernel_size")?;
        pair(self.strides).standardize("strides")?;
        pair(self.dilation_rate).standardize("dilation_rate")?;
        let (filters, groups) = (self.filters as i64, self.groups as i64);
        if filters <= 0 {
            return Err(Error::InvalidFilters(filters));
        }
        if groups <= 0 {
            return Err(Error::InvalidGroups(groups));
        }
        if filters % groups != 0 {
            return Err(Error::FiltersNotDivisibleByGroups { groups, filters });
        }
        if self.strides.iter().max() > Some(&1) && self.dilation_rate.iter().max() > Some(&1) {
            return Err(Error::StridesWithDilation {
                strides: self.strides,
                dilation_rate: self.dilation_rate,
            });
        }
        if self.lora_rank == Some(0) {
            return Err(Error::InvalidArgument(
                "`lora_rank` must be positive. Received lora_rank=0.".into(),
            ));
        }
        Ok(())
    }

    /// The arguments the geometry depends on.
    pub fn params(&self) -> ConvParams {
        ConvParams {
            filters: self.filters,
            kernel_size: self.kernel_size,
            strides: self.strides,
            dilation_rate: self.dilation_rate,
            padding: self.padding,
            groups: self.groups,
            data_format: self.data_format,
        }
    }
}
