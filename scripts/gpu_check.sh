#!/usr/bin/env bash
# The device check (../shared/device/README.md): tunes and benchmarks the standard shapes on a real
# GPU in one prepared run and writes the tables.
#
#   bash scripts/gpu_check.sh prepare   # here: builds the bench, fetches the Vulkan/GL loaders
#   then one `run` (device tool) with carry [".gl", ".devbin"] and the command
#   bash scripts/gpu_check.sh device    # there: writes $OUT/*.json, $OUT/*.log and $OUT/table.md
#
# On the device: the rules (--tuning off), a tuning process (--tuning measure, its choices stored
# in a fresh cache directory), a second process reading them (--tuning cached: it must tune
# nothing and choose the same kernels), then the first call's compile time with a cold and a
# warm pipeline cache. Each step is bounded so a hang leaves the others' results.
set -euo pipefail
cd "$(dirname "$0")/.."

prepare() {
  grep -qx '/.devbin/' .git/info/exclude 2>/dev/null || echo /.devbin/ >>.git/info/exclude
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>.git/info/exclude
  mkdir -p .gl /tmp/amd64/partial .devbin
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  cargo build --release --example bench
  cp target/release/examples/bench .devbin/
  cp bench/shapes.json .devbin/
  cp scripts/gpu_check.sh .devbin/
  echo "prepared .devbin and .gl; now: run with carry [\".gl\", \".devbin\"]: bash .devbin/gpu_check.sh device"
}

device() {
  local out=${OUT:-/tmp/gpu_check}
  mkdir -p "$out"
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
  export WGPU_CONV2D_CACHE_DIR="$out/cache"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv | tee "$out/gpu.txt" || true
  local bench=.devbin/bench shapes=.devbin/shapes.json
  timeout 150 "$bench" --shapes "$shapes" --tuning off --out "$out/rules.json" 2>&1 | tee "$out/rules.log" || true
  timeout 240 "$bench" --shapes "$shapes" --tuning measure --out "$out/measured.json" 2>&1 | tee "$out/measured.log" || true
  timeout 150 "$bench" --shapes "$shapes" --tuning cached --out "$out/cached.json" 2>&1 | tee "$out/cached.log" || true
  timeout 120 "$bench" --shapes "$shapes" --compile-times 2>&1 | tee "$out/compile.log" || true
  "$bench" --table "$out/rules.json,$out/measured.json,$out/cached.json" | tee "$out/table.md" || true
}

case "${1:-}" in
  prepare) prepare ;;
  device) device ;;
  *) echo "usage: $0 prepare|device" >&2; exit 2 ;;
esac
