"""Writes the Conv2D layer lists of real Keras applications for `bench --network FILE`.

    pip install tensorflow-cpu==2.21.0 keras==3.15.1
    python bench/networks/generate.py

Each network is built offline (`weights=None`, 224x224 — InceptionV3 299x299, its native size —
batch 1) in both data formats (DenseNet121, which Keras builds in channels_last only, has its
channels_last layers converted). Every Conv2D layer (DepthwiseConv2D too, written as the Conv2D it
equals: `groups = Cin`, `filters = Cin * depth_multiplier`) becomes an entry with its
`get_config()` and its input shape. A `*.shapes.json` twin in the peers' shape format
(n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, groups, padding) feeds ONNX Runtime and burn.
"""
import json
import os

import keras

OUT = os.path.dirname(os.path.abspath(__file__))
NETS = {
    "resnet50": (keras.applications.ResNet50, 224),
    "mobilenetv2": (keras.applications.MobileNetV2, 224),
    "efficientnetb0": (keras.applications.EfficientNetB0, 224),
    "inceptionv3": (keras.applications.InceptionV3, 299),
    "densenet121": (keras.applications.DenseNet121, 224),
}


def conv_entries(model, data_format):
    entries = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            c = layer.get_config()
            cin = layer.input.shape[-1 if data_format == "channels_last" else 1]
            config = keras.layers.Conv2D(
                filters=cin * c["depth_multiplier"], kernel_size=c["kernel_size"], strides=c["strides"],
                padding=c["padding"], data_format=data_format, dilation_rate=c["dilation_rate"], groups=cin,
                activation=c["activation"], use_bias=c["use_bias"], name=c["name"],
            ).get_config()
        elif isinstance(layer, keras.layers.Conv2D) and type(layer) is keras.layers.Conv2D:
            config = layer.get_config()
        else:
            continue
        entries.append({"name": layer.name, "config": config, "input_shape": [1] + list(layer.input.shape[1:])})
    return entries


def to_channels_first(e):
    n, h, w, c = e["input_shape"]
    return dict(e, config=dict(e["config"], data_format="channels_first"), input_shape=[n, c, h, w])


def shape_entry(e, data_format):
    c = e["config"]
    _, a, b, d = e["input_shape"]
    h, w, cin = (a, b, d) if data_format == "channels_last" else (b, d, a)
    return {
        "name": e["name"], "n": 1, "h": h, "w": w, "cin": cin, "cout": c["filters"],
        "kh": c["kernel_size"][0], "kw": c["kernel_size"][1], "sh": c["strides"][0], "sw": c["strides"][1],
        "dh": c["dilation_rate"][0], "dw": c["dilation_rate"][1], "groups": c["groups"],
        "padding": c["padding"],
    }


if __name__ == "__main__":
    for name, (build, size) in NETS.items():
        for data_format in ["channels_last", "channels_first"]:
            keras.config.set_image_data_format(data_format)
            shape = (size, size, 3) if data_format == "channels_last" else (3, size, size)
            try:
                entries = conv_entries(build(weights=None, input_shape=shape), data_format)
            except ValueError as e:
                # DenseNet refuses channels_first: the same layers, each converted to channels_first.
                print(f"{name}: {e}; converting its channels_last layers")
                entries = [to_channels_first(e) for e in last_entries]
            if data_format == "channels_last":
                last_entries = entries
            tag = "last" if data_format == "channels_last" else "first"
            with open(os.path.join(OUT, f"{name}_{tag}.json"), "w") as f:
                json.dump({"network": name, "data_format": data_format, "layers": entries}, f, indent=1)
            if data_format == "channels_last":
                with open(os.path.join(OUT, f"{name}.shapes.json"), "w") as f:
                    json.dump({"network": name, "shapes": [shape_entry(e, data_format) for e in entries]}, f, indent=1)
            print(f"{name} {data_format}: {len(entries)} conv layers")
    keras.config.set_image_data_format("channels_last")
