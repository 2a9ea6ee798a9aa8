"""The fastest a network's Conv2D layer list could run on this adapter, layer by layer, against
the time 10x burn-wgpu asks for: every layer at the plain-GEMM ceiling measured in the same
session (`wgsl_gemm_ceiling`'s best GFLOP/s), or at the per-call floor where that is longer,
and optionally the 3x3 stride-1 dense layers doing 2.25x (Winograd F(2x2,3x3)) or 4x
(F(4x4,3x3)) fewer multiplications at that same rate. A bound, not an estimate: no layer of any
network here runs at the 1024^3 GEMM's rate, and our Winograd reached 1.06-1.26x of the GEMM
(stop 17), not 2.25x.

    python3 bench/network_bound.py --ceiling 27.3 --floor 0.11 \
        --ours bench/results/networks_tiles/resnet50_last_r1.json \
        --layers bench/networks/resnet50_last.json --burn bench/results/networks_tiles/resnet50_burn.json
"""
import argparse
import json


def bound(ours, layers, ceiling_gflops, floor_ms, winograd_factor):
    """Sum over the layers of max(floor, flops / (ceiling x factor)), factor only on 3x3/1."""
    configs = {entry["name"]: entry["config"] for entry in layers["layers"]}
    total = 0.0
    for row in ours["layers"]:
        config = configs[row["layer"]]
        dense_3x3 = (
            list(config["kernel_size"]) == [3, 3]
            and list(config["strides"]) == [1, 1]
            and config["groups"] == 1
        )
        factor = winograd_factor if dense_3x3 else 1.0
        total += max(floor_ms, row["flops"] / (ceiling_gflops * 1e9 * factor) * 1e3)
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="bench --network output (layer flops)")
    parser.add_argument("--layers", required=True, help="the layer list (configs)")
    parser.add_argument("--burn", required=True, help="burn_peer output on the same list")
    parser.add_argument("--ceiling", type=float, required=True, help="GEMM probe GFLOP/s")
    parser.add_argument("--floor", type=float, required=True, help="per-call floor, ms")
    args = parser.parse_args()
    ours = json.load(open(args.ours))
    layers = json.load(open(args.layers))
    burn = json.load(open(args.burn))
    burn_ms = sum(r["median_ms"] for r in burn["results"])
    row = {
        "network": ours["network"],
        "burn_ms": burn_ms,
        "needed_for_10x_ms": burn_ms / 10,
        "ours_ms": ours["total_median_ms"],
    }
    for name, factor in [("gemm_ceiling", 1.0), ("with_f2x2", 2.25), ("with_f4x4", 4.0)]:
        row[f"bound_{name}_ms"] = bound(ours, layers, args.ceiling, args.floor, factor)
    # The speed-up over the GEMM ceiling the 3x3/1 layers would need for the bound to meet 10x
    # (None: not even with those layers free).
    low, high = 1.0, 1e6
    if bound(ours, layers, args.ceiling, args.floor, high) > row["needed_for_10x_ms"]:
        row["winograd_speedup_needed"] = None
    else:
        for _ in range(100):
            mid = (low + high) / 2
            if bound(ours, layers, args.ceiling, args.floor, mid) > row["needed_for_10x_ms"]:
                low = mid
            else:
                high = mid
        row["winograd_speedup_needed"] = high
    print(json.dumps(row))


if __name__ == "__main__":
    main()
