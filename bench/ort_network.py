"""ONNX Runtime (CPU, MLAS, 2 threads) on a network's Conv2D layer list, the peer of
`bench --network`: each layer a single ONNX Conv node in NCHW (ONNX Conv's only layout), bias
on, random data; warm-up 3 calls, then the median of 10 (and the minimum), summed per network.

    pip install onnxruntime onnx
    python bench/ort_network.py bench/networks/resnet50.shapes.json [--out results.json]
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def pads(i, k, s, d, padding):
    ke = (k - 1) * d + 1
    if padding == "same":
        o = -(-i // s)
        total = max((o - 1) * s + ke - i, 0)
        return o, total // 2, total - total // 2
    return (i - ke) // s + 1, 0, 0


def layer_model(sh):
    ho, pt, pb = pads(sh["h"], sh["kh"], sh["sh"], sh["dh"], sh["padding"])
    wo, pl, pr = pads(sh["w"], sh["kw"], sh["sw"], sh["dw"], sh["padding"])
    cg = sh["cin"] // sh["groups"]
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (sh["cout"], cg, sh["kh"], sh["kw"])).astype(np.float32)
    b = rng.uniform(-1, 1, (sh["cout"],)).astype(np.float32)
    node = helper.make_node(
        "Conv", ["x", "w", "b"], ["y"], kernel_shape=[sh["kh"], sh["kw"]], strides=[sh["sh"], sh["sw"]],
        dilations=[sh["dh"], sh["dw"]], pads=[pt, pl, pb, pr], group=sh["groups"],
    )
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [sh["n"], sh["cin"], sh["h"], sh["w"]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [sh["n"], sh["cout"], ho, wo])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model, 2.0 * sh["n"] * ho * wo * sh["cout"] * cg * sh["kh"] * sh["kw"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shapes")
    ap.add_argument("--out")
    args = ap.parse_args()
    doc = json.load(open(args.shapes))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    rows, total_med, total_min, total_flops = [], 0.0, 0.0, 0.0
    for sh in doc["shapes"]:
        model, flops = layer_model(sh)
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        x = np.random.default_rng(2).uniform(-1, 1, (sh["n"], sh["cin"], sh["h"], sh["w"])).astype(np.float32)
        for _ in range(3):
            sess.run(None, {"x": x})
        times = []
        for _ in range(10):
            t = time.perf_counter()
            sess.run(None, {"x": x})
            times.append((time.perf_counter() - t) * 1e3)
        med, mn = statistics.median(times), min(times)
        total_med, total_min, total_flops = total_med + med, total_min + mn, total_flops + flops
        rows.append({"layer": sh["name"], "median_ms": med, "min_ms": mn, "flops": flops})
    print(f"{doc['network']}: ORT CPU {total_med:.1f} ms (sum of medians), {total_min:.1f} ms (minimums), "
          f"{total_flops / 1e9:.3f} GFLOP, {total_flops / total_med / 1e6:.1f} GFLOP/s over {len(rows)} layers")
    if args.out:
        json.dump({"peer": "onnxruntime-cpu", "network": doc["network"], "total_median_ms": total_med,
                   "total_min_ms": total_min, "layers": rows}, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
