//! `Conv2dConfig` to and from the JSON Keras's `layer.get_config()` emits (Keras 3.15 keys and order).

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::keras::config::{Conv2dConfig, IntArg, RawArgs};

const KEYS: [&str; 21] = [
    "name",
    "trainable",
    "dtype",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "groups",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "lora_rank",
    "lora_alpha",
];

fn bad(key: &str, message: impl Into<String>) -> Error {
    Error::InvalidJson {
        key: key.into(),
        message: message.into(),
    }
}

impl Conv2dConfig {
    /// Reads what `layer.get_config()` emits, or a saved model's
    /// `{"class_name": "Conv2D", "config": {...}}` entry, and validates it in Keras's order.
    ///
    /// # Errors
    /// [`Error::InvalidJson`] for text that is not such a config; otherwise the first error
    /// Keras's constructor would raise for these arguments.
    pub fn from_keras_json(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| bad("(document)", e.to_string()))?;
        Self::from_keras_value(&value)
    }

    /// [`Conv2dConfig::from_keras_json`] on parsed JSON.
    ///
    /// # Errors
    /// As [`Conv2dConfig::from_keras_json`].
    pub fn from_keras_value(value: &Value) -> Result<Self> {
        let obj = value
            .as_object()
            .ok_or_else(|| bad("(document)", "expected a JSON object"))?;
        let config = match (obj.get("class_name"), obj.get("config")) {
            (Some(Value::String(class)), Some(Value::Object(inner))) => {
                if class != "Conv2D" && class != "Convolution2D" {
                    return Err(bad("class_name", format!("expected \"Conv2D\", received \"{class}\"")));
                }
                inner
            }
            _ => obj,
        };
        raw_args(config)?.validate()
    }

    /// The config as Keras's `get_config()` writes it: same keys, order and defaults.
    pub fn to_keras_value(&self) -> Value {
        let pair = |v: [u32; 2]| json!([v[0], v[1]]);
        let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
        let mut out = Map::new();
        out.insert("name".into(), self.name.clone().into());
        out.insert("trainable".into(), self.trainable.into());
        out.insert("dtype".into(), self.dtype.to_keras());
        // Keras's Layer.get_config emits a set activity_regularizer right after dtype, and
        // BaseConv's dict update keeps that position; a null one sits in BaseConv's order.
        let activity = self.activity_regularizer.as_ref().map(|r| r.to_keras());
        if let Some(a) = &activity {
            out.insert("activity_regularizer".into(), a.clone());
        }
        out.insert("filters".into(), self.filters.into());
        out.insert("kernel_size".into(), pair(self.kernel_size));
        out.insert("strides".into(), pair(self.strides));
        out.insert("padding".into(), self.padding.keras_name().into());
        out.insert("data_format".into(), self.data_format.keras_name().into());
        out.insert("dilation_rate".into(), pair(self.dilation_rate));
        out.insert("groups".into(), self.groups.into());
        out.insert("activation".into(), self.activation.keras_name().into());
        out.insert("use_bias".into(), self.use_bias.into());
        out.insert("kernel_initializer".into(), self.kernel_initializer.to_keras());
        out.insert("bias_initializer".into(), self.bias_initializer.to_keras());
        out.insert(
            "kernel_regularizer".into(),
            opt(self.kernel_regularizer.as_ref().map(|r| r.to_keras())),
        );
        out.insert(
            "bias_regularizer".into(),
            opt(self.bias_regularizer.as_ref().map(|r| r.to_keras())),
        );
        if activity.is_none() {
            out.insert("activity_regularizer".into(), Value::Null);
        }
        out.insert(
            "kernel_constraint".into(),
            opt(self.kernel_constraint.as_ref().map(|c| c.to_keras())),
        );
        out.insert(
            "bias_constraint".into(),
            opt(self.bias_constraint.as_ref().map(|c| c.to_keras())),
        );
        if let Some(rank) = self.lora_rank {
            out.insert("lora_rank".into(), rank.into());
            out.insert(
                "lora_alpha".into(),
                self.lora_alpha.clone().map_or(rank.into(), Value::Number),
            );
        }
        Value::Object(out)
    }

    /// [`Conv2dConfig::to_keras_value`] as pretty-printed JSON text.
    pub fn to_keras_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_keras_value()).expect("a JSON value always serialises")
    }
}

fn raw_args(config: &Map<String, Value>) -> Result<RawArgs> {
    if let Some(unknown) = config.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(
            unknown,
            format!("Unrecognized keyword arguments passed to Conv2D: {{'{unknown}'}}"),
        ));
    }
    let filters = int(config, "filters")?.ok_or_else(|| bad("filters", "missing; Conv2D needs `filters`"))?;
    let kernel_size =
        int_arg(config, "kernel_size")?.ok_or_else(|| bad("kernel_size", "missing; Conv2D needs `kernel_size`"))?;
    let mut raw = RawArgs::new(filters, kernel_size);
    if let Some(v) = config.get("name") {
        raw.name = v
            .as_str()
            .ok_or_else(|| bad("name", format!("expected a string, received {v}")))?
            .into();
    }
    if let Some(v) = flag(config, "trainable")? {
        raw.trainable = v;
    }
    if let Some(v) = flag(config, "use_bias")? {
        raw.use_bias = v;
    }
    if let Some(v) = config.get("dtype") {
        raw.dtype = v.clone();
    }
    if let Some(v) = int_arg(config, "strides")? {
        raw.strides = v;
    }
    if let Some(v) = int_arg(config, "dilation_rate")? {
        raw.dilation_rate = v;
    }
    match config.get("padding") {
        None => {}
        Some(Value::String(p)) => raw.padding = p.clone(),
        Some(Value::Array(_)) => {
            let p = &config["padding"];
            return Err(Error::InvalidArgument(format!(
                "`padding` must be either `'valid'` or `'same'`. Received {p}."
            )));
        }
        Some(other) => return Err(bad("padding", format!("expected a string, received {other}"))),
    }
    raw.data_format = optional_string(config, "data_format")?;
    raw.activation = activation_name(config.get("activation"))?;
    if let Some(v) = int(config, "groups")? {
        raw.groups = v;
    }
    for (key, slot) in [
        ("kernel_initializer", &mut raw.kernel_initializer),
        ("bias_initializer", &mut raw.bias_initializer),
        ("kernel_regularizer", &mut raw.kernel_regularizer),
        ("bias_regularizer", &mut raw.bias_regularizer),
        ("activity_regularizer", &mut raw.activity_regularizer),
        ("kernel_constraint", &mut raw.kernel_constraint),
        ("bias_constraint", &mut raw.bias_constraint),
    ] {
        if let Some(v) = config.get(key) {
            *slot = v.clone();
        }
    }
    // Keras's defaults: a null initializer means the default one.
    if raw.kernel_initializer.is_null() {
        raw.kernel_initializer = "glorot_uniform".into();
    }
    if raw.bias_initializer.is_null() {
        raw.bias_initializer = "zeros".into();
    }
    raw.lora_rank = int(config, "lora_rank")?;
    raw.lora_alpha = match config.get("lora_alpha") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.clone()),
        Some(other) => return Err(bad("lora_alpha", format!("expected a number, received {other}"))),
    };
    Ok(raw)
}

fn int(config: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(key, format!("expected an integer, received {v}"))),
    }
}

fn flag(config: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match config.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| bad(key, format!("expected true or false, received {v}"))),
    }
}

fn optional_string(config: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(bad(key, format!("expected a string or null, received {v}"))),
    }
}

/// An int or a list of ints (any length: the arity is Keras's check, done later).
fn int_arg(config: &Map<String, Value>, key: &'static str) -> Result<Option<IntArg>> {
    let not_int = |v: &Value| Error::InvalidTuple {
        argument: key,
        received: v.to_string(),
        detail: String::new(),
    };
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_i64().ok_or_else(|| not_int(&config[key])))
            .collect::<Result<Vec<_>>>()
            .map(|v| Some(IntArg::List(v))),
        Some(v) => v.as_i64().map(|i| Some(IntArg::Int(i))).ok_or_else(|| not_int(v)),
    }
}

/// `"relu"`, `null` (linear), or a serialized builtin `{"class_name": "function", "config": "relu"}`.
fn activation_name(value: Option<&Value>) -> Result<Option<String>> {
    let unknown = |v: &Value| Error::UnknownIdentifier {
        kind: "activation function",
        identifier: v.to_string(),
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ Value::Object(o)) => match o.get("config") {
            Some(Value::String(name)) => Ok(Some(name.clone())),
            _ => Err(unknown(v)),
        },
        Some(v) => Err(unknown(v)),
    }
}
