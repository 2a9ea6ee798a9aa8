"""Writes the model-file fixtures of tests/model_files.rs with real Keras.

    pip install tensorflow-cpu==2.21.0 keras==3.15.1 h5py safetensors
    python tests/generate_model_fixtures.py

Three small models whose Conv2D layers sit among BatchNormalization, pooling, concatenation and
Dense, with user names that differ from Keras's class-based names (so the tracking paths of
`model.weights.h5`, `layers/conv2d_3/vars/0`, do not match them):

- `functional`: channels_last; groups, dilation, strides, a no-bias 1x1 branch, a concatenation,
  a depthwise-style grouped layer, a nested Sequential model holding a Conv2D.
- `sequential`: channels_first layers (strides, relu, no bias, groups).

Each is saved as `.keras`, `.weights.h5` and legacy `.h5`. For every Conv2D layer the script writes
its `get_config()` JSON, an input and the layer's output computed by Keras (`<layer>.x.npy`,
`<layer>.y.npy`): channels_first layers are evaluated as the equal channels_last layer on the
transposed input, since TensorFlow's CPU kernel refuses NCHW. One layer's kernel and bias also go
to `.npz` (HWIO) and `.safetensors` (OIHW, as PyTorch stores it). Finally a few hostile files that
only a writer can make: a kernel of the wrong dtype and a kernel whose shape lies.
"""
import json
import os

import h5py
import keras
import numpy as np
from keras import layers
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "models")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261201)


def randomize(model):
    """Non-trivial weights everywhere (BatchNormalization statistics too)."""
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(w.dtype))
        if "variance" in w.path:
            w.assign(rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype))


def functional():
    inner = keras.Sequential(
        [keras.Input((6, 6, 12)), layers.Conv2D(4, 3, padding="same", activation="tanh", name="inner_conv")],
        name="inner_block",
    )
    x_in = keras.Input((12, 12, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", name="stem")(x_in)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU()(x)
    a = layers.Conv2D(8, 3, padding="same", groups=2, dilation_rate=2, activation="relu", name="grouped_dilated")(x)
    b = layers.Conv2D(4, 1, use_bias=False, name="branch_1x1")(x)
    x = layers.Concatenate(name="concat")([a, b])
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(12, 3, padding="same", groups=12, name="depthwise_like")(x)
    x = layers.Conv2D(12, 2, strides=2, padding="valid", activation="softmax", name="strided_softmax")(x)
    x = layers.UpSampling2D(2)(x)
    x = inner(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(5, name="head")(x)
    return keras.Model(x_in, out, name="functional")


def sequential():
    return keras.Sequential(
        [
            keras.Input((3, 10, 10)),
            layers.Conv2D(6, 3, data_format="channels_first", padding="same", name="cf_a"),
            layers.BatchNormalization(axis=1),
            layers.Conv2D(4, 3, strides=2, data_format="channels_first", activation="relu", use_bias=False, name="cf_b"),
            layers.Conv2D(4, 1, groups=2, data_format="channels_first", name="cf_grouped"),
            layers.Flatten(),
            layers.Dense(3, name="out"),
        ],
        name="sequential",
    )


def conv_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from conv_layers(layer)
        elif isinstance(layer, layers.Conv2D):
            yield layer


def expected(layer, x):
    if layer.data_format == "channels_last":
        return np.asarray(layer(x))
    config = dict(layer.get_config(), data_format="channels_last", name="twin")
    twin = layers.Conv2D.from_config(config)
    twin.build((None,) + tuple(x.shape[2:]) + (x.shape[1],))
    twin.set_weights(layer.get_weights())
    y = np.asarray(twin(np.transpose(x, (0, 2, 3, 1))))
    return np.transpose(y, (0, 3, 1, 2))


def write(model):
    randomize(model)
    base = os.path.join(OUT, model.name)
    model.save(base + ".keras")
    model.save_weights(base + ".weights.h5")
    keras.saving.save_model(model, base + ".h5")
    summary = []
    for layer in conv_layers(model):
        shape = (2,) + tuple(layer.input.shape[1:])
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        y = expected(layer, x)
        stem = os.path.join(OUT, f"{model.name}.{layer.name}")
        np.save(stem + ".x.npy", x)
        np.save(stem + ".y.npy", y.astype(np.float32))
        with open(stem + ".config.json", "w") as f:
            json.dump(layer.get_config(), f, indent=1)
        summary.append({"name": layer.name, "path": layer.path, "kernel": list(layer.kernel.shape)})
    with open(base + ".layers.json", "w") as f:
        json.dump(summary, f, indent=1)
    return model


def tensors(model):
    layer = model.get_layer("stem")
    kernel, bias = layer.get_weights()
    np.savez(os.path.join(OUT, "stem.npz"), kernel=kernel, bias=bias)
    save_file(
        {"stem.weight": np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1))), "stem.bias": bias},
        os.path.join(OUT, "stem.safetensors"),
    )


def hostile(model):
    """A kernel stored as int32, and a kernel whose shape disagrees with the config."""
    src = os.path.join(OUT, model.name + ".weights.h5")
    for name, change in [("wrong_dtype", "dtype"), ("shape_lies", "shape")]:
        dst = os.path.join(OUT, f"hostile_{name}.weights.h5")
        with h5py.File(src, "r") as f, h5py.File(dst, "w") as g:
            for key in f.attrs:
                g.attrs[key] = f.attrs[key]
            f.copy("layers", g)
            path = "layers/conv2d/vars/0"
            data = g[path][()]
            del g[path]
            if change == "dtype":
                g[path] = data.astype(np.int32)
            else:
                g[path] = np.zeros(data.shape[:3] + (data.shape[3] + 1,), np.float32)


if __name__ == "__main__":
    f = write(functional())
    write(sequential())
    tensors(f)
    hostile(f)
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):8d} {name}")
