#!/usr/bin/env bash
# Trains the full-budget results of docs/results.md as `gpucnn compare` campaigns, one folder each under
# docs/results/, every run in its own run folder:
#
#   tools/full-results.sh [CAMPAIGN...]      (default: all eleven, in this order)
#
#   compare-precisebn  the 5-epoch comparison of all three models (compare's defaults, PreciseBN on)
#   compare-keras-bn   the same with Keras's momentum averages (--bn-recalibrate 0), to set beside it
#   full-resnet        resnet, 15 epochs on all images, cosine learning rate, shifts and flips, seed 42
#   full-seed-bn       seed-bn, 15 epochs on all images, PreciseBN, seeds 42 43 44
#   full-seed          seed, the Keras defaults (15 epochs), seeds 42 43 44
#   full-seed-bn-30    seed-bn as full-seed-bn, over 30 epochs, seed 42
#   full-resnet-30     resnet as full-resnet, over 30 epochs
#   modern-seed-bn     seed-bn with the modern recipe (recipes/seed-bn-modern.json), seeds 42 43 44
#   modern-resnet20    resnet20 with the modern recipe (recipes/resnet20-modern.json), seeds 42 43 44
#   modern-seed-bn-60  modern-seed-bn over 60 epochs, the pilots' best on the validation split
#   modern-seed-bn-flip-60  the same with flips and flip at test time, against its overfitting
#
# Run again after an interruption, it continues each campaign where it stopped (compare --resume):
# finished runs are kept, an interrupted run resumes from its last checkpoint. It trains through
# OpenCL (tools/with-opencl.sh provides PoCL), or on GPUCNN_RESULTS_DEVICE. The program is
# published once into artifacts/results-bin, so rebuilding the checkout meanwhile does not touch it.
# Each campaign's console output is appended to docs/results/CAMPAIGN.log.
set -euo pipefail
cd "$(dirname "$0")/.."

device="${GPUCNN_RESULTS_DEVICE:-opencl}"
bin=artifacts/results-bin
dotnet publish src/GpuCnn.Cli -c Release -o "$bin" >/dev/null
# The data, fetched here: the Debian 13 root has no npm for the data fallback.
dotnet "$bin/GpuCnn.Cli.dll" data fetch >/dev/null

campaign() { # campaign NAME COMPARE-ARGS...
  local name=$1 dir="docs/results/$1"; shift
  if [ -f "$dir/campaign.json" ]; then set -- --resume "$dir"; else set -- "$@" --run-dir "$dir"; fi
  echo "== $name: gpucnn compare --device $device $* ($(date -u '+%Y-%m-%d %H:%M UTC'))" | tee -a "$dir.log"
  tools/with-opencl.sh dotnet "$bin/GpuCnn.Cli.dll" compare --device "$device" "$@" >>"$dir.log" 2>&1
  tail -n 8 "$dir.log"
}

all=(compare-precisebn full-resnet full-seed-bn full-seed compare-keras-bn full-seed-bn-30 full-resnet-30 modern-seed-bn modern-resnet20 modern-seed-bn-60 modern-seed-bn-flip-60)
# The modern recipe's options, shared by both models (the recipe files hold the same settings);
# seed-bn trains without augmentation, its best on the validation split (docs/results.md, pilots).
modern=(--seeds 42 43 44 --train-limit all --lr-schedule onecycle --label-smoothing 0.1
  --ema 0.999 --ema-warmup --bn-recalibrate 100)
seed_bn_modern=(--optimizer adamw --lr 0.003 --weight-decay 0.005)
for name in "${@:-${all[@]}}"; do
  case "$name" in
    compare-precisebn) campaign "$name" ;;
    compare-keras-bn) campaign "$name" --bn-recalibrate 0 ;;
    full-resnet) campaign "$name" --models resnet --seeds 42 --epochs 15 --train-limit all --lr-schedule cosine --augment-shift 2 --augment-flip ;;
    full-seed-bn) campaign "$name" --models seed-bn --seeds 42 43 44 --epochs 15 --train-limit all ;;
    full-seed-bn-30) campaign "$name" --models seed-bn --seeds 42 --epochs 30 --train-limit all ;;
    full-resnet-30) campaign "$name" --models resnet --seeds 42 --epochs 30 --train-limit all --lr-schedule cosine --augment-shift 2 --augment-flip ;;
    full-seed) campaign "$name" --models seed --seeds 42 43 44 --epochs 15 --train-limit all ;;
    modern-seed-bn) campaign "$name" --models seed-bn --epochs 30 "${modern[@]}" "${seed_bn_modern[@]}" ;;
    modern-seed-bn-60) campaign "$name" --models seed-bn --epochs 60 "${modern[@]}" "${seed_bn_modern[@]}" ;;
    modern-seed-bn-flip-60) campaign "$name" --models seed-bn --epochs 60 "${modern[@]}" "${seed_bn_modern[@]}" --augment-flip --tta ;;
    modern-resnet20) campaign "$name" --models resnet20 --epochs 30 "${modern[@]}" --optimizer sgd-nesterov --lr 0.1 --weight-decay 0.0005 \
      --augment-shift 2 --augment-flip --tta --augment-erase 0.25 ;;
    *) echo "unknown campaign '$name'; known: ${all[*]}" >&2; exit 2 ;;
  esac
done
