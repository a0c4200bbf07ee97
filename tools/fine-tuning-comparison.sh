#!/usr/bin/env bash
# The fine-tuning comparison of docs/fine-tuning.md: a zoo model trained on 100 pictures per class
# (handwritten digits, or CIFAR-10's photos) from scratch, fine-tuned from the same model trained on
# Fashion-MNIST (the run folders of docs/results), and fine-tuned with its convolutions frozen; three
# seeds each, one budget. Through PoCL, as the results were made:
#
#   node tools/digits-folder.mjs .data/digits        # once, on the host (needs npm)
#   node tools/cifar-folder.mjs .data/cifar          # the same for the photos
#   dotnet build -c Release src/GpuCnn.Cli
#   tools/with-opencl.sh tools/fine-tuning-comparison.sh digits seed      # or cifar; seed-bn
#   tools/fine-tuning-comparison.sh digits seed --summary   # the table, from the run folders
#
# Each run's folder is docs/results/fine-tuning/MODEL/CONDITION/seed-S for the digits and
# docs/results/fine-tuning-cifar/MODEL/... for the photos (OUT=... elsewhere); a run that finished
# is not run again. DEVICE=cpu runs on the CPU accelerator (about 8x slower).
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: $0 digits|cifar seed|seed-bn [--summary]"
pictures=${1:-} model=${2:-}
case $pictures in
  digits) data=.data/digits results=docs/results/fine-tuning builder=digits-folder.mjs ;;
  cifar) data=.data/cifar results=docs/results/fine-tuning-cifar builder=cifar-folder.mjs ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
case $model in
  # The source: seed 42 of the full Fashion-MNIST runs. seed-bn's runs use PreciseBN, as compare's do.
  seed) source_model=docs/results/full-seed/seed/seed-42 frozen_up_to=conv2d_1 options=() ;;
  seed-bn) source_model=docs/results/full-seed-bn/seed-bn/seed-42 frozen_up_to=re_lu_1 options=(--bn-recalibrate 100) ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
out=${OUT:-$results}/$model
conditions=(scratch fine-tuned frozen)
seeds=(42 43 44)

summary() { # mean ± sample standard deviation of each condition's final test accuracy, and each seed's
  for condition in "${conditions[@]}"; do
    for seed in "${seeds[@]}"; do
      sed -n 's/^ *"test_accuracy": *\([0-9.]*\),*$/\1/p' "$out/$condition/seed-$seed/test_results.json"
    done | awk -v c="$condition" '{ v[NR] = 100 * $1; s += v[NR] } END {
      m = s / NR; for (i = 1; i <= NR; i++) d += (v[i] - m) ^ 2
      printf "| %s | %.2f ± %.2f %% |", c, m, sqrt(d / (NR - 1)); for (i = 1; i <= NR; i++) printf " %.2f", v[i]; print " |" }'
  done
}
if [ "${3:-}" = --summary ]; then summary; exit 0; fi

[ -d "$data/train" ] || { echo "error: $data: no folder of pictures; build it first: node tools/$builder $data" >&2; exit 2; }
cli=src/GpuCnn.Cli/bin/Release/net10.0/GpuCnn.Cli.dll
[ -f "$cli" ] || { echo "error: $cli: build it first: dotnet build -c Release src/GpuCnn.Cli" >&2; exit 2; }
for seed in "${seeds[@]}"; do
  for condition in "${conditions[@]}"; do
    case $condition in
      scratch) extra=() ;;
      fine-tuned) extra=(--init-from "$source_model") ;;
      frozen) extra=(--init-from "$source_model" --freeze "$frozen_up_to") ;;
    esac
    run="$out/$condition/seed-$seed"
    [ -f "$run/test_results.json" ] && continue
    rm -rf "$run"
    dotnet "$cli" train --device "${DEVICE:-opencl}" --data-dir "$data" --model "$model" --epochs 20 --batch-size 32 \
      --seed "$seed" --run-dir "$run" "${options[@]}" "${extra[@]}"
  done
done
summary
