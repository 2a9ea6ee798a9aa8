#!/usr/bin/env bash
# Runs the crate's bench and every peer of ../shared/bench on this machine, in one session and one
# after another (never two at once: they share 2 cores), then merges them with the peers' summarize.py.
# Needs: the peers built (burn_peer, wgpu_floor, wgsl_gemm_ceiling; see ../shared/bench/README.md)
# with their binaries under $PEER_BIN, and a Python with tensorflow-cpu, onnx, onnxruntime ($PY).
# Writes bench/results/ in this repo: every JSON and summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
PEER_BIN=${PEER_BIN:?set PEER_BIN to the folder holding burn_peer, wgpu_floor and wgsl_gemm_ceiling}
SHARED=$(cd ../shared/bench && pwd)
WORK=$(mktemp -d)
cp -r "$SHARED"/*.py "$SHARED"/*.c "$SHARED"/shapes.json "$WORK"/
mkdir -p "$WORK/results"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
echo "== machine peak"; (cd "$WORK" && $PY peak.py --out results/peak.json) || echo "peak.py failed (needs gcc and numpy)"
echo "== TF and ONNX Runtime"; (cd "$WORK" && $PY peers.py --out results/peers.json)
echo "== burn-wgpu"; "$PEER_BIN/burn_peer" --shapes "$WORK/shapes.json" --out "$WORK/results/burn_wgpu.json"
echo "== wgpu call floor"; "$PEER_BIN/wgpu_floor" --out "$WORK/results/wgpu_floor.json"
echo "== WGSL GEMM probe (its best storage-buffer variants)"
"$PEER_BIN/wgsl_gemm_ceiling" --sizes 1024 --filter sgm_buf_r64_t4_ku4_w8,sgm_buf_r32_t2_ku4_w8 \
  --out "$WORK/results/wgsl_gemm_ceiling.json"
echo "== wgpu-conv2d"; cargo run --release --example bench -- --shapes "$WORK/shapes.json" --out "$WORK/results/wgpu-conv2d.json"
(cd "$WORK" && $PY summarize.py) > /dev/null
mkdir -p bench/results
cp "$WORK"/results/* bench/results/
echo "wrote bench/results/summary.md"
