#!/usr/bin/env bash
# The peer benchmark, one command: the training step of the seed model and of resnet20, batch 128
# of Fashion-MNIST training images, Adam, in GpuCnn on its fastest CPU device (OpenCL on PoCL),
# in PyTorch (Debian 13's python3-torch, oneDNN) and in TorchSharp 0.107 (libtorch 2.10 CPU),
# each peer in channels_last and in NCHW memory with one intra-op thread per core; three rounds,
# the systems one after the other in each, with each round's ratios and their medians
# (bench/peer/rounds.py). The host's CPU, vector flags and load are printed first, and each
# measurement says whether the machine was idle (docs/performance.md, "the peer benchmark").
# TorchSharp's libtorch needs glibc 2.38 or later, so everything runs inside the Debian 13 root
# of tools/with-opencl.sh (on a machine with PoCL >= 4 and a new glibc, directly).
#   bench/peer/run.sh [BATCHES [RESNET_BATCHES]]   timed batches per measurement: 60 for seed,
#                                                  20 for resnet20 (a third of BATCHES when given)
#   PEER_REQUIRE_IDLE=1   wait for an idle machine, else stop with exit code 3 rather than report
#   PEER_MODELS=seed      only these models (comma-separated; default seed,resnet20)
#   PEER_ROUNDS=3 PEER_THREADS=<cores>
set -euo pipefail
cd "$(dirname "$0")/../.."
count() { # count NAME VALUE: a whole number of at least 1, else exit 2
  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] || { echo "error: bench/peer/run.sh: $1 '$2' is not a whole number of at least 1" >&2; exit 2; }
}
batches="${1:-60}"
count BATCHES "$batches"
resnet_batches=20
[ $# -ge 1 ] && resnet_batches=$(( (batches + 2) / 3 ))
resnet_batches="${2:-$resnet_batches}"
count RESNET_BATCHES "$resnet_batches"
rounds="${PEER_ROUNDS:-3}"
count PEER_ROUNDS "$rounds"
threads="${PEER_THREADS:-$(nproc)}"
count PEER_THREADS "$threads"
models=()
for m in $(echo "${PEER_MODELS:-seed,resnet20}" | tr ',' ' '); do
  case "$m" in
    seed) models+=("seed=$batches") ;;
    resnet20) models+=("resnet20=$resnet_batches") ;;
    *) echo "error: bench/peer/run.sh: PEER_MODELS: '$m' is not seed or resnet20" >&2; exit 2 ;;
  esac
done
[ ${#models[@]} -gt 0 ] || { echo "error: bench/peer/run.sh: PEER_MODELS names no model" >&2; exit 2; }
models=$(IFS=,; echo "${models[*]}")
idle=()
[ "${PEER_REQUIRE_IDLE:-0}" = 1 ] && idle=(--require-idle)

quietly() { # a build step's output only when it fails
  local log
  log=$(mktemp)
  "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
  rm -f "$log"
}
quietly dotnet build -c Release bench/peer/TorchSharpPeer -nologo -v quiet
quietly dotnet build -c Release bench/GpuCnn.Bench -nologo -v quiet
quietly dotnet run -c Release --project src/GpuCnn.Cli -- data fetch
data="${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn/fashion-mnist"

# PyTorch inside the root: Debian's python3-torch, installed there once.
if ! tools/with-opencl.sh python3 -c 'import torch, numpy' 2>/dev/null; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn"
  root="${GPUCNN_POCL_ROOT:-$cache/pocl-root}"
  if [ -e "$root/.gpucnn-pocl-ready" ] && [ "$(id -u)" = 0 ]; then
    echo "peer: installing Debian's python3-torch in $root (once)" >&2
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    flock "$cache/pocl-root-install.lock" chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-torch python3-numpy && apt-get clean' \
      >>"$cache/pocl-root.log" 2>&1 \
      || { echo "error: installing python3-torch in $root failed; see $cache/pocl-root.log" >&2; exit 2; }
  else
    echo "error: bench/peer/run.sh: python3 with PyTorch 2.6 or later is needed where tools/with-opencl.sh runs commands (Debian 13: python3-torch)" >&2
    exit 2
  fi
fi

tools/with-opencl.sh python3 bench/peer/rounds.py "$data" --models "$models" --rounds "$rounds" --threads "$threads" "${idle[@]}"
