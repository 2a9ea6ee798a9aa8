//! `Conv2dBuilder`: a [`Conv2dConfig`] built in Rust with Keras's argument names.

use serde_json::{Number, Value};

use crate::error::Result;
use crate::keras::config::{Conv2dConfig, IntArg, RawArgs};
use crate::keras::constraint::Constraint;
use crate::keras::initializer::Initializer;
use crate::keras::regularizer::Regularizer;

impl Conv2dConfig {
    /// A builder with Keras's defaults: `Conv2dConfig::builder(32, 3).padding("same").build()`.
    pub fn builder(filters: i64, kernel_size: impl Into<IntArg>) -> Conv2dBuilder {
        Conv2dBuilder(RawArgs::new(filters, kernel_size.into()))
    }
}

/// Builds a [`Conv2dConfig`] with Keras's argument names; `build` validates in Keras's order.
#[derive(Debug, Clone)]
pub struct Conv2dBuilder(pub(crate) RawArgs);

/// An identifier argument: a Keras name (`"he_normal"`), a serialized dict, or a built object.
#[derive(Debug, Clone)]
pub struct KerasArg(Value);

impl From<&str> for KerasArg {
    fn from(v: &str) -> Self {
        Self(Value::String(v.into()))
    }
}
impl From<Value> for KerasArg {
    fn from(v: Value) -> Self {
        Self(v)
    }
}
impl From<Initializer> for KerasArg {
    fn from(v: Initializer) -> Self {
        Self(v.to_keras())
    }
}
impl From<Regularizer> for KerasArg {
    fn from(v: Regularizer) -> Self {
        Self(v.to_keras())
    }
}
impl From<Constraint> for KerasArg {
    fn from(v: Constraint) -> Self {
        Self(v.to_keras())
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $t:ty => $conv:expr;)*) => {$(
        $(#[$doc])*
        pub fn $field(mut self, value: $t) -> Self {
            self.0.$field = ($conv)(value);
            self
        }
    )*};
}

macro_rules! object_setters {
    ($($(#[$doc:meta])* $field:ident;)*) => {$(
        $(#[$doc])*
        pub fn $field(mut self, value: impl Into<KerasArg>) -> Self {
            self.0.$field = value.into().0;
            self
        }
    )*};
}

impl Conv2dBuilder {
    setters! {
        /// Keras: `name`.
        name: &str => String::from;
        /// Keras: `trainable`.
        trainable: bool => std::convert::identity;
        /// Keras: `padding`, `"valid"` or `"same"` (any case).
        padding: &str => String::from;
        /// Keras: `data_format`, `"channels_last"` or `"channels_first"` (any case).
        data_format: &str => |v: &str| Some(v.to_string());
        /// Keras: `groups`.
        groups: i64 => std::convert::identity;
        /// Keras: `activation` name (case-sensitive).
        activation: &str => |v: &str| Some(v.to_string());
        /// Keras: `use_bias`.
        use_bias: bool => std::convert::identity;
        /// Keras: `lora_rank`.
        lora_rank: i64 => Some;
        /// Keras: `lora_alpha`.
        lora_alpha: f64 => Number::from_f64;
    }

    object_setters! {
        /// Keras: `kernel_initializer`.
        kernel_initializer;
        /// Keras: `bias_initializer`.
        bias_initializer;
        /// Keras: `kernel_regularizer`.
        kernel_regularizer;
        /// Keras: `bias_regularizer`.
        bias_regularizer;
        /// Keras: `activity_regularizer`.
        activity_regularizer;
        /// Keras: `kernel_constraint`.
        kernel_constraint;
        /// Keras: `bias_constraint`.
        bias_constraint;
        /// Keras: `dtype`, a policy name (`"mixed_float16"`) or a serialized `DTypePolicy`.
        dtype;
    }

    /// Keras: `strides` (an int or a pair).
    pub fn strides(mut self, value: impl Into<IntArg>) -> Self {
        self.0.strides = value.into();
        self
    }

    /// Keras: `dilation_rate` (an int or a pair).
    pub fn dilation_rate(mut self, value: impl Into<IntArg>) -> Self {
        self.0.dilation_rate = value.into();
        self
    }

    /// Validates the arguments in Keras's order.
    ///
    /// # Errors
    /// The first [`crate::Error`] Keras's constructor would raise, with Keras's message.
    pub fn build(self) -> Result<Conv2dConfig> {
        self.0.validate()
    }
}
