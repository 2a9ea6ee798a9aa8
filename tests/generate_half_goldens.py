#!/usr/bin/env python3
"""Writes the half-precision Keras goldens under tests/fixtures/keras_half/ with real Keras (3.15.1,
TensorFlow backend): every case in each of the four policies mixed_float16, float16, mixed_bfloat16
and bfloat16.

    pip install tensorflow-cpu==2.21.0 keras==3.15.1
    python3 tests/generate_half_goldens.py

Each case directory holds config.json (the layer's get_config()), policy.json (Keras's
layer.compute_dtype and layer.variable_dtype), kernel.npy and bias.npy (the
layer's variables: float32 for the mixed policies, `<f2` for float16, float32 holding bfloat16
values for bfloat16, which npy cannot name), input.npy (float32, not rounded: the layer casts it)
and output.npy (the layer's output in its compute dtype: `<f2` for the float16 policies, float32
holding bfloat16 values otherwise). Every case is checked against an independent NumPy model of
Keras's rounding (f64 accumulation of the rounded operands, rounded after the convolution, the
bias add and the activation) within 2 units in the last place at the output's scale.
channels_first truth comes from the channels_last layer on the transposed input (TensorFlow's CPU
Conv2D has channels_first bugs, see generate_goldens.py), with the activation applied by Keras
to the channels_first tensor in the compute dtype.
"""
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import ops  # noqa: E402

from generate_goldens import np_conv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "keras_half")
assert keras.__version__ == "3.15.1", keras.__version__

POLICIES = ["mixed_float16", "float16", "mixed_bfloat16", "bfloat16"]
ULP = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def case(name, kwargs, input_shape, seed, scale=1.0):
    return dict(name=name, kwargs=kwargs, input_shape=input_shape, seed=seed, scale=scale)


CASES = [
    case("basic_last", dict(filters=8, kernel_size=3, padding="same", activation="relu"), [2, 7, 6, 3], 1),
    case("strided_first", dict(filters=6, kernel_size=3, strides=2, data_format="channels_first",
                               activation="gelu"), [1, 8, 9, 11], 2),
    case("grouped_last", dict(filters=8, kernel_size=3, groups=2, padding="same", activation="tanh"),
         [1, 6, 5, 6], 3),
    case("depthwise_last", dict(filters=12, kernel_size=3, groups=6, padding="same"), [2, 6, 7, 6], 4),
    case("depthwise_first", dict(filters=6, kernel_size=3, groups=3, padding="same", strides=2,
                                 data_format="channels_first", activation="relu6"), [1, 3, 9, 8], 5),
    case("dilated_first", dict(filters=5, kernel_size=3, dilation_rate=2, padding="same",
                               data_format="channels_first", activation="silu"), [1, 4, 9, 10], 6),
    case("softmax_last", dict(filters=7, kernel_size=1, activation="softmax"), [2, 4, 5, 16], 7, 3.0),
    case("softmax_first", dict(filters=3, kernel_size=3, padding="same", data_format="channels_first",
                               activation="softmax"), [1, 5, 6, 7], 8, 3.0),
    case("sigmoid_wide_last", dict(filters=16, kernel_size=3, activation="sigmoid"), [1, 5, 5, 64], 9),
    # Past 65504 the float16 policies give inf (bfloat16 keeps float32's range).
    case("overflow_last", dict(filters=4, kernel_size=3, padding="same"), [1, 5, 5, 8], 10, 60000.0),
    # Outputs down in float16's subnormal range (below 6.1e-5).
    case("subnormal_last", dict(filters=4, kernel_size=3, padding="same", use_bias=False), [1, 5, 5, 4], 11, 3e-5),
]


def rounder(dtype):
    if dtype == "float16":
        return lambda a: np.asarray(a, np.float64).astype(np.float16).astype(np.float64)
    import ml_dtypes  # installed with TensorFlow
    return lambda a: np.asarray(a, np.float64).astype(np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)


def to_numpy(t):
    return np.asarray(ops.convert_to_numpy(ops.cast(t, "float32")), np.float32)


def run(c, policy):
    rng = np.random.default_rng(c["seed"])
    x = (rng.uniform(-1, 1, c["input_shape"]) * c["scale"]).astype(np.float32)
    kwargs = dict(c["kwargs"])
    channels_first = kwargs.get("data_format") == "channels_first"
    layer = keras.layers.Conv2D(**kwargs, dtype=policy, name="conv2d")
    layer.build(x.shape)
    weights = [to_numpy(w) for w in layer.weights]
    if len(weights) > 1:  # a visible bias
        weights[1] = rng.uniform(-0.5, 0.5, weights[1].shape).astype(np.float32)
        layer.bias.assign(weights[1])
        weights[1] = to_numpy(layer.bias)
    compute = layer.compute_dtype
    if channels_first:
        cl_args = dict(kwargs, data_format="channels_last", activation="linear")
        cl = keras.layers.Conv2D(**cl_args, dtype=policy)
        cl.build(np.transpose(x, (0, 2, 3, 1)).shape)
        cl.set_weights([w.astype(cl.variable_dtype if cl.variable_dtype != "bfloat16" else np.float32)
                        for w in weights])
        y_cl = cl(np.transpose(x, (0, 2, 3, 1)))
        y = ops.transpose(y_cl, (0, 3, 1, 2))
        y = to_numpy(keras.activations.get(kwargs.get("activation", "linear"))(y))
    else:
        y = to_numpy(layer(x))
    # Independent model of Keras's rounding.
    r = rounder(compute)
    xr = r(x if not channels_first else np.transpose(x, (0, 2, 3, 1)))
    bias = r(weights[1]) if len(weights) > 1 else None
    conv = r(np_conv(xr, r(weights[0]), None, layer.strides, layer.padding, layer.dilation_rate, layer.groups))
    if bias is not None:
        conv = r(conv + bias)
    if channels_first:
        conv = np.transpose(conv, (0, 3, 1, 2))
    act = keras.activations.get(kwargs.get("activation", "linear"))
    model = r(to_numpy(act(ops.convert_to_tensor(conv.astype(np.float32)))))
    finite = np.isfinite(model)
    assert np.array_equal(np.isfinite(y), finite), (c["name"], policy)
    assert np.array_equal(y[~finite], model[~finite]), (c["name"], policy)
    scale = max(np.abs(model[finite]).max(), 1e-30)
    err = np.abs(y[finite] - model[finite]).max() / scale
    assert err <= 2 * ULP[compute], (c["name"], policy, err)
    return layer, weights, x, y, compute, err


def save(path, values, dtype):
    np.save(path, np.ascontiguousarray(values).astype(dtype))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    worst = {}
    for policy in POLICIES:
        for c in CASES:
            layer, weights, x, y, compute, err = run(c, policy)
            worst[policy] = max(worst.get(policy, 0.0), err)
            d = os.path.join(OUT, f"{policy}_{c['name']}")
            os.makedirs(d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(layer.get_config(), f, indent=1)
            with open(os.path.join(d, "policy.json"), "w") as f:
                json.dump({"compute_dtype": layer.compute_dtype, "variable_dtype": layer.variable_dtype}, f)
            var = "<f2" if layer.variable_dtype == "float16" else "<f4"
            save(os.path.join(d, "kernel.npy"), weights[0], var)
            if len(weights) > 1:
                save(os.path.join(d, "bias.npy"), weights[1], var)
            save(os.path.join(d, "input.npy"), x, "<f4")
            save(os.path.join(d, "output.npy"), y, "<f2" if compute == "float16" else "<f4")
    for policy in ["mixed_float16", "mixed_bfloat16"]:
        o = np.load(os.path.join(OUT, f"{policy}_overflow_last", "output.npy"))
        s = np.load(os.path.join(OUT, f"{policy}_subnormal_last", "output.npy")).astype(np.float64)
        print(policy, "overflow case: inf outputs", int(np.isinf(o).sum()), "of", o.size,
              "; subnormal case: outputs below 2^-14:", int(((s != 0) & (np.abs(s) < 2.0 ** -14)).sum()), "of", s.size)
    print("worst error of Keras against the rounding model, in units of the output's scale:", worst)


if __name__ == "__main__":
    main()
