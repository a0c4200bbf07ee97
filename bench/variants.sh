#!/usr/bin/env bash
# The convolution variants side by side: every convolution layer of the given models under each
# variant (im2col + GEMM, implicit GEMM, Winograd F(2x2,3x3)), checked against the reference
# device and timed by the bench's workbench, one variant after the other in one window. Layers a
# variant does not fit fall back to im2col and are printed as such. AutoConvVariant in
# src/GpuCnn/Devices/Launchers/Conv2dLauncher.cs follows these tables.
#   bench/variants.sh DEVICE [MODELS] [OUT]    e.g. tools/with-opencl.sh bench/variants.sh opencl seed,resnet docs/results/conv-variants-opencl.txt
set -euo pipefail
cd "$(dirname "$0")/.."
device="$1"; models="${2:-seed}"; out="${3:-/dev/stdout}"
dotnet build -c Release bench/GpuCnn.Bench -nologo -v quiet >/dev/null
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for variant in im2col implicit winograd; do
  dotnet bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll --device "$device" --models "$models" --batches 0 \
    --kernel conv2d --variant "$variant" | grep -E "^(Device|Ceiling|FMA peak)|conv2d" >> "$tmp"
done
# Then the whole training step of each model under each variant, alternating, twice.
for round in 1 2; do
  for variant in auto im2col implicit winograd; do
    dotnet bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll --device "$device" --models "$models" --layers false \
      --batches "${BATCHES:-12}" --variant "$variant" | grep "end to end" | sed "s/^/[$variant] /" >> "$tmp"
  done
done
cat "$tmp" > "$out"
