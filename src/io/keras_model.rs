//! A saved Keras model's config (`config.json` of a `.keras` file, the `model_config` attribute of a
//! legacy `.h5`): every Conv2D layer found at any depth (functional, Sequential, nested models),
//! with where its weights are stored. Keras 3's `model.weights.h5` names layers by tracking path,
//! not by the user's names: each container's layers are named after their class in snake case,
//! numbered in the config's order (`layers/conv2d`, `layers/conv2d_1`, nested models as
//! `layers/sequential/layers/conv2d`).

use std::collections::HashMap;

use serde_json::Value;

/// A layer of the model: its name, class, config and where its weights are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelLayer {
    /// The user's name (`config.name`).
    pub name: String,
    /// The Keras class (`Conv2D`, `Dense`, ...).
    pub class: String,
    /// The layer's `{"class_name": ..., "config": ...}` entry.
    pub entry: Value,
    /// The names of the models it sits in, outermost first, then its own.
    pub name_path: Vec<String>,
    /// Its group in a Keras 3 `model.weights.h5` (`layers/sequential/layers/conv2d`).
    pub tracking_path: String,
}

/// Keras's `to_snake_case` of a class name (`Conv2D` → `conv2d`, `BatchNormalization` →
/// `batch_normalization`, `ReLU` → `re_lu`).
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            // Keras: `(.)([A-Z][a-z]+)` then `([a-z])([A-Z])` get an underscore between.
            if next_lower || prev.is_ascii_lowercase() {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Every layer of the model config `model` (a `{"class_name", "config": {"layers": [...]}}`
/// entry), depth first in the config's order. Layers of nested models come with their own.
pub(crate) fn layers(model: &Value) -> Vec<ModelLayer> {
    let mut out = Vec::new();
    walk(model, "", &[], &mut out);
    out
}

fn walk(model: &Value, prefix: &str, names: &[String], out: &mut Vec<ModelLayer>) {
    let Some(list) = model.pointer("/config/layers").and_then(Value::as_array) else {
        return;
    };
    let mut used: HashMap<String, usize> = HashMap::new();
    for layer in list {
        let class = layer
            .get("class_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = layer
            .pointer("/config/name")
            .or_else(|| layer.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let base = snake_case(&class);
        let tracked = match used.get_mut(&base) {
            Some(n) => {
                *n += 1;
                format!("{base}_{n}")
            }
            None => {
                used.insert(base.clone(), 0);
                base
            }
        };
        let tracking_path = format!("{prefix}layers/{tracked}");
        let mut name_path = names.to_vec();
        name_path.push(name.clone());
        if layer.pointer("/config/layers").is_some_and(Value::is_array) {
            walk(layer, &format!("{tracking_path}/"), &name_path, out);
        }
        out.push(ModelLayer {
            name,
            class,
            entry: layer.clone(),
            name_path,
            tracking_path,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_is_keras_s() {
        for (class, snake) in [
            ("Conv2D", "conv2d"),
            ("BatchNormalization", "batch_normalization"),
            ("ReLU", "re_lu"),
            ("Dense", "dense"),
            ("Sequential", "sequential"),
            ("GlobalAveragePooling2D", "global_average_pooling2d"),
            ("UpSampling2D", "up_sampling2d"),
            ("InputLayer", "input_layer"),
        ] {
            assert_eq!(snake_case(class), snake);
        }
    }

    #[test]
    fn tracking_paths_number_each_class_in_order_and_nest() {
        let model = serde_json::json!({"class_name": "Functional", "config": {"layers": [
            {"class_name": "Conv2D", "config": {"name": "a"}},
            {"class_name": "Dense", "config": {"name": "d"}},
            {"class_name": "Conv2D", "config": {"name": "b"}},
            {"class_name": "Sequential", "config": {"name": "inner", "layers": [
                {"class_name": "Conv2D", "config": {"name": "c"}}]}},
        ]}});
        let paths: Vec<(String, String)> = layers(&model).into_iter().map(|l| (l.name, l.tracking_path)).collect();
        assert_eq!(
            paths,
            [
                ("a", "layers/conv2d"),
                ("d", "layers/dense"),
                ("b", "layers/conv2d_1"),
                ("c", "layers/sequential/layers/conv2d"),
                ("inner", "layers/sequential"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
}
