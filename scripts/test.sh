#!/usr/bin/env bash
# Runs the whole test suite. Installs Mesa's software Vulkan adapter (lavapipe) first when it is
# missing and this shell may install packages, so the GPU tests have an adapter on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing lavapipe (mesa-vulkan-drivers, libvulkan1)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 vulkan-tools \
      libegl1 libegl-mesa0 libgles2 >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends mesa-vulkan-drivers libvulkan1 \
      vulkan-tools libegl1 libegl-mesa0 libgles2
  else
    echo "warning: lavapipe is not installed and cannot be installed here; GPU tests will be skipped" >&2
  fi
fi

# Pin the Vulkan loader to lavapipe when no other adapter is wanted, and keep it to the cores we have.
if [ -z "${VK_DRIVER_FILES:-}" ] && ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  VK_DRIVER_FILES=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -n 1)
  export VK_DRIVER_FILES
fi
export LP_NUM_THREADS="${LP_NUM_THREADS:-$(nproc)}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# Tests plan by the registry's rules unless they ask for tuning: an empty, private tuning and
# pipeline cache, so choices measured elsewhere on this machine (a bench run) never change them.
if [ -z "${WGPU_CONV2D_CACHE_DIR:-}" ]; then
  WGPU_CONV2D_CACHE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wgpu-conv2d-test-cache.XXXXXX")
  export WGPU_CONV2D_CACHE_DIR
  trap 'rm -rf "$WGPU_CONV2D_CACHE_DIR"' EXIT
fi
command -v vulkaninfo >/dev/null && { vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName" || true; }

# Everything, on Vulkan (lavapipe) where it exists.
WGPU_BACKEND="${WGPU_BACKEND:-vulkan}" cargo test --release --all-features "$@"

# The GPU tests again on wgpu's GL backend (llvmpipe through EGL), when no test filter was given.
if [ $# -eq 0 ] && ls /usr/lib/*/libEGL_mesa.so.0 >/dev/null 2>&1; then
  echo "GPU tests on the GL backend:"
  # One test thread: wgpu-hal's GL contexts share one EGL lock with a 6 s timeout, and a cold GL
  # shader compile in one test can hold it longer than a buffer drop in another test will wait.
  WGPU_BACKEND=gl cargo test --release --all-features --test gpu_conv --test gpu_planes --test gpu_stems --test gpu_winograd_rules --test gpu_faults --test gpu_wait --test regressions --test embedding \
    -- --test-threads=1
fi
