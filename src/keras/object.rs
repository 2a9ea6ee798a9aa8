//! Keras's `{module, class_name, config, registered_name}` objects: lookup by name, defaults, round-trip.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// One Keras class: its canonical name, every string Keras's `get` accepts for it, and the
/// config `get_config()` writes for a default instance (key order included).
pub(crate) struct ClassSpec<K> {
    pub kind: K,
    pub class: &'static str,
    pub names: &'static [&'static str],
    pub defaults: &'static str,
}

/// A resolved object: which class and its full config (defaults filled in, Keras's key order).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved<K> {
    pub kind: K,
    pub class: &'static str,
    pub config: Map<String, Value>,
}

/// What `keras.<family>.get(identifier)` does: a string names a class, a dict is a serialized object.
pub(crate) fn resolve<K: Copy>(
    specs: &[ClassSpec<K>],
    family: &'static str,
    identifier: &Value,
) -> Result<Resolved<K>> {
    let unknown = |shown: String| Error::UnknownIdentifier {
        kind: family,
        identifier: shown,
    };
    let (name, given) = match identifier {
        Value::String(s) => (s.as_str(), None),
        Value::Object(obj) => {
            let name = obj
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or_else(|| unknown(Value::Object(obj.clone()).to_string()))?;
            let config = match obj.get("config") {
                None | Some(Value::Null) => None,
                Some(Value::Object(c)) => Some(c),
                Some(other) => {
                    return Err(Error::InvalidJson {
                        key: format!("{family}.config"),
                        message: format!("expected an object, received {other}"),
                    })
                }
            };
            (name, config)
        }
        other => return Err(unknown(other.to_string())),
    };
    let spec = specs
        .iter()
        .find(|s| s.class == name || s.names.contains(&name))
        .ok_or_else(|| unknown(name.to_string()))?;
    let mut config: Map<String, Value> =
        serde_json::from_str(spec.defaults).expect("class defaults are valid JSON objects");
    if let Some(given) = given {
        for (key, value) in given {
            match config.get_mut(key) {
                Some(slot) => *slot = value.clone(),
                None => {
                    return Err(Error::InvalidJson {
                        key: format!("{}.config.{key}", spec.class),
                        message: format!("{}.__init__() got an unexpected keyword argument '{key}'", spec.class),
                    })
                }
            }
        }
    }
    Ok(Resolved {
        kind: spec.kind,
        class: spec.class,
        config,
    })
}

/// `{"module": ..., "class_name": ..., "config": ..., "registered_name": null}`.
pub(crate) fn serialize(module: &str, class: &str, config: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("module".into(), module.into());
    out.insert("class_name".into(), class.into());
    out.insert("config".into(), Value::Object(config.clone()));
    out.insert("registered_name".into(), Value::Null);
    Value::Object(out)
}

/// A numeric config entry (int or float), or an error naming the class and key.
pub(crate) fn number(class: &str, config: &Map<String, Value>, key: &str) -> Result<f64> {
    config
        .get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| Error::InvalidJson {
            key: format!("{class}.config.{key}"),
            message: format!("expected a number, received {}", show(config.get(key))),
        })
}

/// A string config entry.
pub(crate) fn string<'a>(class: &str, config: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    config
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidJson {
            key: format!("{class}.config.{key}"),
            message: format!("expected a string, received {}", show(config.get(key))),
        })
}

/// An optional non-negative integer entry (`seed`), `null` meaning absent.
pub(crate) fn optional_u64(class: &str, config: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| Error::InvalidJson {
            key: format!("{class}.config.{key}"),
            message: format!("expected a non-negative integer or null, received {v}"),
        }),
    }
}

/// An optional list of axes (ints; a bare int counts as a one-element list).
pub(crate) fn optional_axes(class: &str, config: &Map<String, Value>, key: &str) -> Result<Option<Vec<i64>>> {
    let bad = |v: &Value| Error::InvalidJson {
        key: format!("{class}.config.{key}"),
        message: format!("expected an integer, a list of integers or null, received {v}"),
    };
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_i64().ok_or_else(|| bad(i)))
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => v.as_i64().map(|a| Some(vec![a])).ok_or_else(|| bad(v)),
    }
}

/// Normalises a possibly negative axis against a rank, or says it is out of range.
pub(crate) fn normalize_axis(axis: i64, rank: usize, what: &str) -> Result<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(Error::InvalidArgument(format!(
            "{what}: axis {axis} is out of bounds for a tensor of rank {rank}"
        )))
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "nothing".to_string(), Value::to_string)
}
