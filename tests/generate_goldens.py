#!/usr/bin/env python3
"""Writes the Keras golden fixtures under tests/fixtures/ with real Keras (3.15.1, TensorFlow backend).

    python3 -m venv /opt/kerasenv && /opt/kerasenv/bin/pip install tensorflow-cpu==2.21.0 keras==3.15.1 scipy
    /opt/kerasenv/bin/python tests/generate_goldens.py

The Rust tests read the fixtures without Python. Every forward case is cross-checked against an
independent NumPy convolution before it is written. TensorFlow's CPU (oneDNN) Conv2D returns wrong
values for some channels_first layers with bias and strides, so channels_first truth is derived
from the channels_last layer on the transposed input, with the activation applied by Keras on the
channels_first tensor (its last axis is then the width).
"""
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
assert keras.__version__ == "3.15.1", keras.__version__

ACTIVATIONS = [
    "linear", "relu", "leaky_relu", "relu6", "elu", "selu", "celu", "softplus", "softsign",
    "squareplus", "soft_shrink", "hard_shrink", "tanh_shrink", "sparse_plus", "silu", "swish",
    "gelu", "tanh", "sigmoid", "sparse_sigmoid", "exponential", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "mish", "log_sigmoid", "softmax", "log_softmax", "sparsemax", "glu",
]


def np_conv(x_nhwc, kernel, bias, strides, padding, dilation, groups):
    """Independent reference: explicit zero padding (Keras/TF split), dilated taps, group slices."""
    n, h, w, cin = x_nhwc.shape
    kh, kw, cin_g, filters = kernel.shape
    sh, sw = strides
    dh, dw = dilation

    def axis(size, k, s, d):
        ek = (k - 1) * d + 1
        if padding == "valid":
            return (size - ek) // s + 1, 0
        out = -(-size // s)
        total = max(0, (out - 1) * s + ek - size)
        return out, total // 2

    oh, pt = axis(h, kh, sh, dh)
    ow, pl = axis(w, kw, sw, dw)
    xp = np.zeros((n, h + 2 * kh * dh + 2 * sh * oh, w + 2 * kw * dw + 2 * sw * ow, cin), np.float64)
    xp[:, pt:pt + h, pl:pl + w, :] = x_nhwc
    y = np.zeros((n, oh, ow, filters), np.float64)
    fg = filters // groups
    for g in range(groups):
        xs = xp[..., g * cin_g:(g + 1) * cin_g]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw, :]
                y[..., g * fg:(g + 1) * fg] += patch @ kernel[i, j, :, g * fg:(g + 1) * fg].astype(np.float64)
    if bias is not None:
        y += bias
    return y


def case(name, kwargs, input_shape, seed, scale=1.0, lora=None):
    return dict(name=name, kwargs=kwargs, input_shape=input_shape, seed=seed, scale=scale, lora=lora)


def forward_cases():
    cases = []
    # Every activation string, channels_last, odd kernel, same padding.
    for i, act in enumerate(ACTIVATIONS):
        scale = 0.5 if act == "exponential" else 1.5
        cases.append(case(f"act_{act}_last", dict(filters=4, kernel_size=3, padding="same", activation=act),
                          [2, 5, 6, 3], 100 + i, scale))
    # Axis-reducing activations in channels_first: the last axis is the width.
    for i, act in enumerate(["softmax", "log_softmax", "sparsemax", "glu", "relu"]):
        cases.append(case(f"act_{act}_first", dict(filters=3, kernel_size=3, padding="same",
                                                   data_format="channels_first", activation=act),
                          [2, 2, 5, 6], 200 + i, 1.5))
    geometry = [
        ("valid_even_kernel", dict(filters=5, kernel_size=(2, 4), padding="valid"), [1, 6, 7, 3]),
        ("same_even_kernel", dict(filters=5, kernel_size=(4, 2), padding="same"), [1, 6, 7, 3]),
        ("same_stride2_odd", dict(filters=4, kernel_size=3, strides=2, padding="same"), [2, 7, 8, 2]),
        ("same_stride2_even_in", dict(filters=4, kernel_size=3, strides=2, padding="same"), [1, 6, 6, 2]),
        ("valid_stride_gt_kernel", dict(filters=3, kernel_size=2, strides=3, padding="valid"), [1, 8, 9, 2]),
        ("same_stride_gt_kernel", dict(filters=3, kernel_size=1, strides=(3, 2), padding="same"), [1, 8, 9, 2]),
        ("same_pad_exceeds_input", dict(filters=2, kernel_size=5, padding="same"), [1, 1, 2, 3]),
        ("valid_kernel_equals_input", dict(filters=3, kernel_size=(4, 5), padding="valid"), [2, 4, 5, 2]),
        ("dilation2_same", dict(filters=4, kernel_size=3, dilation_rate=2, padding="same"), [1, 9, 10, 3]),
        ("dilation_2x3_valid", dict(filters=4, kernel_size=(2, 3), dilation_rate=(2, 3), padding="valid"), [1, 9, 11, 2]),
        ("groups2", dict(filters=6, kernel_size=3, groups=2, padding="same"), [2, 5, 5, 4]),
        ("groups4_stride2", dict(filters=8, kernel_size=3, groups=4, strides=2, padding="valid"), [1, 9, 9, 8]),
        ("depthwise", dict(filters=4, kernel_size=3, groups=4, padding="same"), [1, 6, 6, 4]),
        ("depthwise_multiplier2", dict(filters=6, kernel_size=3, groups=3, padding="valid"), [1, 6, 7, 3]),
        ("groups2_dilated", dict(filters=6, kernel_size=2, groups=2, dilation_rate=2, padding="same",
                                 activation="relu"), [1, 4, 4, 4]),
        ("pointwise", dict(filters=7, kernel_size=1), [2, 4, 5, 6]),
        ("no_bias", dict(filters=3, kernel_size=3, use_bias=False, activation="tanh"), [1, 5, 5, 2]),
        ("stem_7x7_s2", dict(filters=4, kernel_size=7, strides=2, padding="same", activation="relu"), [1, 16, 16, 3]),
    ]
    for i, (name, kw, shape) in enumerate(geometry):
        cases.append(case(name + "_last", kw, shape, 300 + i))
        first = dict(kw, data_format="channels_first")
        n, h, w, c = shape
        cases.append(case(name + "_first", first, [n, c, h, w], 400 + i))
    cases.append(case("lora_rank2", dict(filters=4, kernel_size=3, padding="same"), [1, 5, 5, 3], 500,
                      lora=dict(rank=2, alpha=3.0)))
    cases.append(case("lora_rank3_groups", dict(filters=6, kernel_size=(3, 2), groups=3, strides=(1, 2)),
                      [1, 6, 6, 3], 501, lora=dict(rank=3, alpha=None)))
    return cases


def run_case(c):
    rng = np.random.default_rng(c["seed"])
    kw = dict(c["kwargs"])
    fmt = kw.get("data_format", "channels_last")
    x = (rng.uniform(-1, 1, c["input_shape"]) * c["scale"]).astype(np.float32)
    x_last = x if fmt == "channels_last" else np.transpose(x, (0, 2, 3, 1))
    layer = keras.layers.Conv2D(**kw)
    layer.build(x.shape)
    kernel = rng.uniform(-1, 1, layer.kernel.shape).astype(np.float32)
    weights = [kernel]
    if layer.use_bias:
        weights.append(rng.uniform(-0.5, 0.5, (kw["filters"],)).astype(np.float32))
    layer.set_weights(weights)
    extra = {}
    if c["lora"]:
        layer.enable_lora(c["lora"]["rank"], lora_alpha=c["lora"]["alpha"])
        a = rng.uniform(-0.5, 0.5, layer.lora_kernel_a.shape).astype(np.float32)
        b = rng.uniform(-0.5, 0.5, layer.lora_kernel_b.shape).astype(np.float32)
        layer.lora_kernel_a.assign(a)
        layer.lora_kernel_b.assign(b)
        extra = dict(lora_a=a, lora_b=b)
    effective = np.asarray(layer.kernel)
    # Truth: channels_last linear conv by Keras, then the activation by Keras in the layer's layout.
    linear_kw = dict(kw, data_format="channels_last", activation="linear")
    linear = keras.layers.Conv2D(**linear_kw)
    linear.build(x_last.shape)
    linear.set_weights([effective] + weights[1:])
    z_last = np.asarray(linear(x_last))
    z = z_last if fmt == "channels_last" else np.transpose(z_last, (0, 3, 1, 2))
    y = np.asarray(keras.activations.get(kw.get("activation"))(z))
    # Independent NumPy cross-check of the convolution.
    ref = np_conv(x_last.astype(np.float64), effective, weights[1] if layer.use_bias else None,
                  layer.strides, layer.padding, layer.dilation_rate, layer.groups)
    err = np.abs(ref - z_last).max() / max(1e-30, np.abs(ref).max())
    assert err < 1e-5, (c["name"], err)
    # Where TF's own channels_first layer agrees, say so; where it does not, the derived truth wins.
    try:
        direct = np.asarray(layer(x))
        tf_cf_ok = "agrees" if np.allclose(direct, y, rtol=1e-4, atol=1e-4) else "DISAGREES"
    except Exception as e:  # TF's CPU kernel refuses NCHW for some layers
        tf_cf_ok = "refused: " + type(e).__name__
    d = os.path.join(OUT, "keras", c["name"])
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(layer.get_config(), f, indent=1)
    np.save(os.path.join(d, "kernel.npy"), kernel)
    if layer.use_bias:
        np.save(os.path.join(d, "bias.npy"), weights[1])
    np.save(os.path.join(d, "input.npy"), np.ascontiguousarray(x))
    np.save(os.path.join(d, "output.npy"), np.ascontiguousarray(y, dtype=np.float32))
    for k, v in extra.items():
        np.save(os.path.join(d, k + ".npy"), v)
    return tf_cf_ok


def messages():
    """Keras's own error text for each class of mistake."""
    rows = []

    def expect(config, input_shape=None, weights=None, lora=None):
        try:
            layer = keras.layers.Conv2D(name="conv2d", **config)
            if input_shape is not None:
                layer.build(tuple(input_shape))
                if weights is not None:
                    layer.set_weights([np.zeros(s, np.float32) for s in weights])
                if lora is not None:
                    for _ in range(lora):
                        layer.enable_lora(2)
            elif lora is not None:
                layer.enable_lora(2)
        except ValueError as e:
            rows.append(dict(config=config, input_shape=input_shape, weights=weights, lora=lora, error=str(e)))
            return
        raise AssertionError(f"no error for {config}")

    expect(dict(filters=0, kernel_size=3))
    expect(dict(filters=-2, kernel_size=3))
    expect(dict(filters=4, kernel_size=[1, 0]))
    expect(dict(filters=4, kernel_size=[0, -1]))
    expect(dict(filters=4, kernel_size=[3, 3, 3]))
    expect(dict(filters=4, kernel_size=0))
    expect(dict(filters=4, kernel_size=3, strides=[0, 1]))
    expect(dict(filters=4, kernel_size=3, strides=-1))
    expect(dict(filters=4, kernel_size=3, dilation_rate=[1, 0]))
    expect(dict(filters=4, kernel_size=3, strides=2, dilation_rate=[2, 1]))
    expect(dict(filters=4, kernel_size=3, strides=[1, 2], dilation_rate=2))
    expect(dict(filters=4, kernel_size=3, groups=0))
    expect(dict(filters=5, kernel_size=3, groups=2))
    expect(dict(filters=4, kernel_size=3, padding="causal"))
    expect(dict(filters=4, kernel_size=3, padding="full"))
    expect(dict(filters=4, kernel_size=3, data_format="NHWC"))
    expect(dict(filters=4, kernel_size=3, activation="ReLU"))
    expect(dict(filters=4, kernel_size=3, activation="no_such"))
    expect(dict(filters=4, kernel_size=3, kernel_initializer="no_such"))
    expect(dict(filters=4, kernel_size=3, bias_initializer="l1"))
    expect(dict(filters=4, kernel_size=3, kernel_regularizer="l1_l2"))
    expect(dict(filters=4, kernel_size=3, activity_regularizer="nope"))
    expect(dict(filters=0, kernel_size=3, activity_regularizer="nope"))
    expect(dict(filters=4, kernel_size=3, kernel_constraint="maxnorm"))
    expect(dict(filters=0, kernel_size=[3, 0]))
    expect(dict(filters=4, kernel_size=3, groups=2), input_shape=[1, 5, 5, 3])
    expect(dict(filters=4, kernel_size=3), input_shape=[1, 2, 2, 3])
    expect(dict(filters=4, kernel_size=[3, 5], strides=2), input_shape=[2, 7, 4, 1])
    expect(dict(filters=4, kernel_size=3, dilation_rate=3), input_shape=[1, 6, 9, 2])
    expect(dict(filters=4, kernel_size=3, data_format="channels_first"), input_shape=[1, 3, 2, 9])
    expect(dict(filters=4, kernel_size=3), input_shape=[1, 5, 5, 3], weights=[[3, 3, 3, 5], [4]])
    expect(dict(filters=4, kernel_size=3), input_shape=[1, 5, 5, 3], weights=[[3, 3, 3, 4], [5]])
    expect(dict(filters=4, kernel_size=3), input_shape=[1, 5, 5, 3], weights=[[3, 3, 3, 4]])
    expect(dict(filters=4, kernel_size=3, kernel_constraint="max_norm"), input_shape=[1, 5, 5, 3], lora=1)
    expect(dict(filters=4, kernel_size=3), lora=1)
    expect(dict(filters=4, kernel_size=3), input_shape=[1, 5, 5, 3], lora=2)
    for name, bad in [("l1", dict(class_name="L1", config=dict(l1=-1.0))),
                      ("l2", dict(class_name="L2", config=dict(l2=-0.5)))]:
        expect(dict(filters=4, kernel_size=3, kernel_regularizer=bad))
    expect(dict(filters=4, kernel_size=3,
                kernel_initializer=dict(class_name="VarianceScaling", config=dict(scale=-1.0))))
    expect(dict(filters=4, kernel_size=3,
                kernel_initializer=dict(class_name="VarianceScaling", config=dict(mode="fan_mid"))))
    return rows


def configs():
    """get_config() of layers built from varied arguments: the Rust writer must reproduce each."""
    variants = [
        dict(filters=32, kernel_size=3),
        dict(filters=8, kernel_size=(3, 5), strides=(2, 1), padding="SAME", data_format="Channels_First"),
        dict(filters=6, kernel_size=3, dilation_rate=2, groups=3, activation="swish", use_bias=False),
        dict(filters=4, kernel_size=1, activation="hard_swish", kernel_initializer="he_normal",
             bias_initializer="ones", kernel_regularizer="l2", bias_regularizer="l1",
             activity_regularizer="l1l2", kernel_constraint="max_norm", bias_constraint="non_neg"),
        dict(filters=4, kernel_size=2, kernel_initializer=keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_out", distribution="untruncated_normal", seed=7),
            bias_initializer=keras.initializers.RandomUniform(-0.1, 0.2, seed=3),
            kernel_regularizer=keras.regularizers.L1L2(l1=0.001, l2=0.002),
            kernel_constraint=keras.constraints.MinMaxNorm(0.5, 1.5, rate=0.7, axis=[0, 1, 2]),
            bias_constraint=keras.constraints.UnitNorm(axis=0), name="custom_name", trainable=False),
        dict(filters=4, kernel_size=3, kernel_initializer="orthogonal", bias_initializer="truncated_normal",
             kernel_regularizer=keras.regularizers.OrthogonalRegularizer(factor=0.1, mode="columns")),
        dict(filters=4, kernel_size=3, kernel_initializer="lecun_uniform", bias_initializer="random_normal"),
        dict(filters=4, kernel_size=3, kernel_initializer=keras.initializers.Constant(0.25),
             activation="gelu", lora_rank=4),
        dict(filters=4, kernel_size=3, lora_rank=2, lora_alpha=0.5, activation="sparsemax"),
        dict(filters=4, kernel_size=3, kernel_initializer="glorot_normal", bias_initializer="he_uniform",
             activation="softmax"),
    ]
    rows = []
    for v in variants:
        cfg = keras.layers.Conv2D(**v).get_config()
        rows.append(cfg)
    # A saved-model entry wrapping a config.
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c")])
    saved = json.loads(model.to_json())["config"]["layers"][1]
    return rows, saved


def penalties():
    """Regularizer penalties and constrained weights on one fixed kernel, computed by Keras."""
    rng = np.random.default_rng(7)
    kernel = rng.uniform(-1, 1, (3, 3, 2, 4)).astype(np.float32)
    bias = rng.uniform(-1, 1, (4,)).astype(np.float32)
    regs = {"l1": "l1", "l2": "l2", "l1l2": keras.regularizers.L1L2(0.01, 0.02)}
    out = dict(kernel=kernel.tolist(), bias=bias.tolist(), regularizers={}, constraints={}, activity={})
    for name, r in regs.items():
        layer = keras.layers.Conv2D(4, 3, kernel_regularizer=r, bias_regularizer=r)
        layer.build((1, 5, 5, 2))
        layer.set_weights([kernel, bias])
        out["regularizers"][name] = dict(config=layer.get_config(), loss=float(sum(np.asarray(l) for l in layer.losses)))
    cons = {"max_norm": keras.constraints.MaxNorm(0.8), "max_norm_axes": keras.constraints.MaxNorm(1.2, axis=[0, 1, 2]),
            "non_neg": "non_neg", "unit_norm": "unit_norm",
            "min_max_norm": keras.constraints.MinMaxNorm(0.9, 1.1, rate=0.5, axis=[0, 1, 2])}
    for name, c in cons.items():
        obj = keras.constraints.get(c)
        per_filter = isinstance(getattr(obj, "axis", 0), list)  # axes [0,1,2] do not exist on a bias
        out["constraints"][name] = dict(config=keras.saving.serialize_keras_object(obj),
                                        kernel=np.asarray(obj(kernel)).tolist(),
                                        bias=None if per_filter else np.asarray(obj(bias)).tolist())
    x = rng.uniform(-1, 1, (3, 5, 5, 2)).astype(np.float32)
    layer = keras.layers.Conv2D(4, 3, activity_regularizer=keras.regularizers.L2(0.05))
    layer.build(x.shape)
    layer.set_weights([kernel, bias])
    y = layer(x)
    out["activity"] = dict(config=layer.get_config(), input=x.tolist(), loss=float(sum(np.asarray(l) for l in layer.losses)))
    layer = keras.layers.Conv2D(4, 3, kernel_regularizer="l2")
    layer.build((1, 5, 5, 2))
    layer.set_weights([kernel, bias])
    layer.enable_lora(2)
    a = rng.uniform(-1, 1, (3, 3, 2, 2)).astype(np.float32)
    b = rng.uniform(-1, 1, (2, 4)).astype(np.float32)
    layer.lora_kernel_a.assign(a)
    layer.lora_kernel_b.assign(b)
    out["lora_penalty"] = dict(a=a.tolist(), b=b.tolist(), loss=float(sum(np.asarray(l) for l in layer.losses)))
    del y
    return out


def main():
    shutil.rmtree(os.path.join(OUT, "keras"), ignore_errors=True)
    os.makedirs(os.path.join(OUT, "keras"))
    cases = forward_cases()
    verdicts = {c["name"]: run_case(c) for c in cases}
    tf_cf_bad = {k: v for k, v in verdicts.items() if v != "agrees"}
    rows = messages()
    cfgs, saved = configs()
    with open(os.path.join(OUT, "keras_errors.json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(OUT, "keras_configs.json"), "w") as f:
        json.dump(dict(configs=cfgs, saved_model_entry=saved), f, indent=1)
    with open(os.path.join(OUT, "keras_penalties.json"), "w") as f:
        json.dump(penalties(), f)
    print(f"{len(cases)} forward cases, {len(rows)} error messages, {len(cfgs)} configs")
    print("TF's own layer did not reproduce the derived truth on:", json.dumps(tf_cf_bad, indent=1))


if __name__ == "__main__":
    main()
