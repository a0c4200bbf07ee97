#!/usr/bin/env bash
# The fine-tuning comparison of docs/fine-tuning.md: a zoo model trained on 100 handwritten digits
# per class from scratch, fine-tuned from the same model trained on Fashion-MNIST (the run folders
# of docs/results), and fine-tuned with its convolutions frozen; three seeds each, one budget.
# Through PoCL, as the results were made:
#
#   node tools/digits-folder.mjs .data/digits        # once, on the host (needs npm)
#   dotnet build -c Release src/GpuCnn.Cli
#   tools/with-opencl.sh tools/fine-tuning-comparison.sh seed      # or seed-bn
#   tools/fine-tuning-comparison.sh seed --summary   # the table, from the run folders
#
# Each run's folder is docs/results/fine-tuning/MODEL/CONDITION/seed-S (OUT=... elsewhere); a run
# that finished is not run again. DEVICE=cpu runs on the CPU accelerator (about 8x slower).
set -euo pipefail
cd "$(dirname "$0")/.."

model=${1:-}
case $model in
  # The source: seed 42 of the full Fashion-MNIST runs. seed-bn's runs use PreciseBN, as compare's do.
  seed) source_model=docs/results/full-seed/seed/seed-42 frozen_up_to=conv2d_1 options=() ;;
  seed-bn) source_model=docs/results/full-seed-bn/seed-bn/seed-42 frozen_up_to=re_lu_1 options=(--bn-recalibrate 100) ;;
  *) echo "usage: $0 seed|seed-bn [--summary]" >&2; exit 2 ;;
esac
data=.data/digits
out=${OUT:-docs/results/fine-tuning}/$model
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
if [ "${2:-}" = --summary ]; then summary; exit 0; fi

[ -d "$data/train" ] || { echo "error: $data: no folder of digits; build it first: node tools/digits-folder.mjs $data" >&2; exit 2; }
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
