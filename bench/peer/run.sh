#!/usr/bin/env bash
# The peer benchmark, one command: the seed model's training throughput in TorchSharp 0.107
# (libtorch 2.10 CPU, oneDNN), in TensorFlow.js 4.22 (the Keras twin; bench/peer/tfjs) and in
# GpuCnn on its two devices here (PoCL's OpenCL and ILGPU's CPU accelerator), in one run on the
# same cores and the same Fashion-MNIST images, with the ratios. TF.js runs on the host's Node;
# its WebAssembly backend cannot train a convolution (no Conv2DBackpropFilter kernel), which the
# run shows. Its pure-JavaScript cpu backend trains, at about 2 images/s (55 s a batch), so it is
# timed only with PEER_TFJS_CPU=1.
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
[ -d bench/peer/tfjs/node_modules ] || npm --prefix bench/peer/tfjs ci --no-audit --no-fund >/dev/null
node bench/peer/tfjs/seed.mjs "$data" --backend wasm --batches 3 | tee -a "$log" || true
[ "${PEER_TFJS_CPU:-0}" = 1 ] && node bench/peer/tfjs/seed.mjs "$data" --backend cpu --batches 2 | tee -a "$log"
tools/with-opencl.sh sh -c "
  dotnet bench/peer/TorchSharpSeed/bin/Release/net10.0/TorchSharpSeed.dll '$data' --batches $batches &&
  dotnet bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll --device opencl --models seed --layers false --fashion-mnist true --batches $((batches + 1)) &&
  dotnet bench/GpuCnn.Bench/bin/Release/net10.0/GpuCnn.Bench.dll --device cpu --models seed --layers false --fashion-mnist true --batches $((batches / 3 + 1))
" | tee -a "$log"
torch=$(sed -n 's/^TorchSharp.* \([0-9.]*\) images\/s over.*/\1/p' "$log")
tfjs=$(sed -n 's/^TensorFlow.js.* \([0-9.]*\) images\/s over.*/\1/p' "$log")
rates=$(sed -n 's/^seed training step (end to end).* \([0-9.]*\) images\/s.*/\1/p' "$log")
opencl=$(echo "$rates" | sed -n 1p); cpu=$(echo "$rates" | sed -n 2p)
echo
awk -v t="$torch" -v j="$tfjs" -v o="$opencl" -v c="$cpu" 'BEGIN {
  printf "seed model, training images/s: TorchSharp %s | GpuCnn OpenCL (PoCL) %s = %.2fx | GpuCnn CPU accelerator %s = %.2fx\n", t, o, o / t, c, c / t
  if (j != "") printf "against TensorFlow.js (cpu backend) %s: GpuCnn CPU accelerator %.2fx, GpuCnn OpenCL %.2fx\n", j, c / j, o / j }'
