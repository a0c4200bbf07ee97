#!/usr/bin/env bash
# The peer benchmark, one command: the seed model's training throughput in TorchSharp 0.107
# (libtorch 2.10 CPU, oneDNN) and in GpuCnn on its two devices here (PoCL's OpenCL and ILGPU's CPU
# accelerator), in one run on the same cores and the same Fashion-MNIST images, with the ratios.
# TorchSharp's libtorch needs glibc 2.38 or later, so everything runs inside the Debian 13 root of
# tools/with-opencl.sh (on a machine with PoCL >= 4 and a new glibc, directly).
#   bench/peer/run.sh [BATCHES]        (default 60 timed batches of 128 after a warm-up)
set -euo pipefail
cd "$(dirname "$0")/../.."
batches="${1:-60}"
dotnet build -c Release bench/peer/TorchSharpSeed -nologo -v quiet
dotnet build -c Release bench/GpuCnn.Bench -nologo -v quiet
dotnet run -c Release --no-build --project src/GpuCnn.Cli -- data fetch >/dev/null
data="${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn/fashion-mnist"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tools/with-opencl.sh sh -c "
  dotnet bench/peer/TorchSharpSeed/bin/Release/net10.0/TorchSharpSeed.dll '$data' --batches $batches &&
  dotnet bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll --device opencl --models seed --layers false --fashion-mnist true --batches $((batches + 1)) &&
  dotnet bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll --device cpu --models seed --layers false --fashion-mnist true --batches $((batches / 3 + 1))
" | tee "$log"
torch=$(sed -n 's/.* \([0-9.]*\) images\/s over.*/\1/p' "$log")
rates=$(sed -n 's/^seed training step (end to end).* \([0-9.]*\) images\/s.*/\1/p' "$log")
opencl=$(echo "$rates" | sed -n 1p); cpu=$(echo "$rates" | sed -n 2p)
echo
awk -v t="$torch" -v o="$opencl" -v c="$cpu" 'BEGIN {
  printf "seed model, training images/s: TorchSharp %s | GpuCnn OpenCL (PoCL) %s = %.2fx | GpuCnn CPU accelerator %s = %.2fx\n", t, o, o / t, c, c / t }'
