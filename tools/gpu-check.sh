#!/usr/bin/env bash
# The GPU kit: one prepared command that tests, times and trains GpuCnn on a lent GPU, beside
# PyTorch on the same card (docs/gpu-kit.md).
#
#   tools/gpu-check.sh pack      builds the kit here into .gpukit/ (ignored): the test project
#                                published self-contained (it holds gpucnn and its bench too, with
#                                one .NET runtime), Fashion-MNIST as IDX (every test image, as many
#                                training images as the payload budget leaves), and prints the one
#                                `run` call for the GPU machine
#   tools/gpu-check.sh gpu       on the GPU machine (no .NET there): unpacks .gpukit/ and runs every
#                                step on CUDA, each under its own time limit, the whole within 9
#                                minutes, writing into $OUT as each step ends
#   tools/gpu-check.sh --local   the dry run here: packs, unpacks, and runs the same steps from the
#                                packed kit on PoCL through tools/with-opencl.sh (--device opencl; no
#                                sanitizer, no PyTorch), into $OUT or .gpukit-run/out
#   tools/gpu-check.sh payload   what would travel (tracked tree, untracked files, .gpukit/) against
#                                the 60 MiB budget; exit code 1 above it
#
# Environment: GPUKIT_BUDGET_MIB (60), GPUKIT_DIR (.gpukit), GPUKIT_LOCAL_EPOCHS (15: the dry
# run's training budget), GPUKIT_DEADLINE_S (the GPU run's whole time, 530 s), GPUKIT_STEPS (only
# these steps, e.g. "bench pytorch": a second, shorter call).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
kit="${GPUKIT_DIR:-.gpukit}"
# Unpacked programs and the dry run's output live beside the kit, never in it: `carry` sends the
# whole folder.
work="${kit%/}-run"
budget_mib="${GPUKIT_BUDGET_MIB:-60}"
budget=$((budget_mib * 1024 * 1024))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ---------------------------------------------------------------------------------------------
# payload: the tracked tree and untracked, not ignored files (what every `run` call sends), plus
# the carried kit. The device tool refuses more than 64 MiB; the kit keeps 4 MiB of room.
tree_bytes() {
  { git ls-files -z; git ls-files -z --others --exclude-standard; } \
    | xargs -0 -r stat -c %s -- 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
carried_bytes() { [ -d "$kit" ] && find "$kit" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }' || echo 0; }
payload() {
  local tree carried total
  tree=$(tree_bytes); carried=$(carried_bytes); total=$((tree + carried))
  echo "payload: tree $(mib "$tree") + carried $kit/ $(mib "$carried") = $(mib "$total") (budget $budget_mib MiB)"
  if [ "$total" -gt "$budget" ]; then
    echo "error: the payload is over the $budget_mib MiB budget by $(mib $((total - budget)))" >&2
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# IDX files: the first N records of one, with its count rewritten (images: 16-byte header,
# 784 bytes a record; labels: 8-byte header, 1 byte).
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
idx_head() ( # idx_head SOURCE N TARGET (SOURCE gzip or not)
  set +o pipefail # head closes the pipe early on purpose; the size is checked instead
  local source=$1 n=$2 target=$3 header record
  case "$source" in *images*) header=16; record=784 ;; *) header=8; record=1 ;; esac
  local reader=cat; case "$source" in *.gz) reader="gzip -dc" ;; esac
  { $reader "$source" | head -c 4; be32 "$n"; $reader "$source" | tail -c +9 | head -c $((header - 8 + n * record)); } > "$target"
  [ "$(stat -c %s "$target")" -eq $((header + n * record)) ] || { echo "error: $source holds fewer than $n records" >&2; exit 1; }
)

# ---------------------------------------------------------------------------------------------
pack() {
  local data="${GPUCNN_CACHE:+$GPUCNN_CACHE/fashion-mnist}"
  data="${data:-${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn/fashion-mnist}"
  if [ ! -s "$data/train-images-idx3-ubyte.gz" ]; then
    dotnet run -c Release --project src/GpuCnn.Cli -- data fetch
  fi
  local stage="$kit/stage"
  rm -rf "$kit"
  mkdir -p "$stage"
  echo "gpu-check: publishing the tests, gpucnn and its bench self-contained for linux-x64"
  # The test project references the CLI and the bench, so its folder holds all three programs
  # over one .NET runtime; the apphosts run with no .NET installed.
  dotnet publish tests/GpuCnn.Tests -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false \
    -o "$stage/gpucnn-kit" -nologo -v quiet
  (
    cd "$stage/gpucnn-kit"
    # Not needed by the device tests, gpucnn or the bench: ONNX Runtime (the export tests), the
    # VSTest adapter and code coverage (the published runner is xunit's own), the old-format
    # fixtures, and the debugger's libraries. --local runs this same folder.
    rm -rf CodeCoverage alpine arm64 macos ubuntu x64 x86 Persistence \
      onnxruntime.dll onnxruntime_providers_shared.dll libonnxruntime.so libonnxruntime_providers_shared.so \
      Microsoft.CodeCoverage.* Microsoft.VisualStudio.CodeCoverage.Shim.dll Microsoft.VisualStudio.TraceDataCollector.dll \
      Microsoft.DiaSymReader.dll Mono.Cecil*.dll Microsoft.TestPlatform.*.dll Microsoft.VisualStudio.TestPlatform.*.dll \
      testhost.dll xunit.runner.visualstudio.testadapter.dll Microsoft.ApplicationInsights.dll Newtonsoft.Json.dll \
      libmscordaccore.so libmscordbi.so
    # Nor ASP.NET Core's shared framework (27 MB; 7.9 MiB under xz -9e), which only `gpucnn board`
    # loads: the files of its runtime pack, which the publish copied in.
    for lib in "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/microsoft.aspnetcore.app.runtime.linux-x64/*/runtimes/linux-x64/lib/net*; do
      if [ -d "$lib" ]; then ls "$lib"; fi
    done | sort -u | xargs -r rm -f --
    ln -sf GpuCnn.Cli gpucnn
    ln -sf GpuCnn.Bench gpucnn-bench
  )
  echo "gpu-check: compressing the programs (xz -9e; a few minutes on 2 cores)"
  tar -C "$stage" -cf - gpucnn-kit | xz -9e -T1 > "$kit/programs.tar.xz"

  # Every test image; then as many training images as the budget leaves, from the first on.
  local fm="$stage/fashion-mnist"
  mkdir -p "$fm"
  gzip -dc "$data/t10k-images-idx3-ubyte.gz" > "$fm/t10k-images-idx3-ubyte"
  gzip -dc "$data/t10k-labels-idx1-ubyte.gz" > "$fm/t10k-labels-idx1-ubyte"
  local fixed left n=60000 try
  # 512 KiB of room: the manifest, and the tree growing by a commit or two before the call.
  fixed=$(( $(tree_bytes) + $(stat -c %s "$kit/programs.tar.xz") + 512 * 1024 ))
  left=$((budget - fixed))
  for try in 1 2 3 4 5 6; do
    # xz keeps about 377 bytes of an image and its label; aim a little under what is left.
    [ "$try" -gt 1 ] || n=$(( (left - 3900000) / 385 ))
    [ "$n" -le 60000 ] || n=60000
    [ "$n" -ge 1280 ] || { echo "error: the tree and the programs leave no room for training images ($(mib "$left"))" >&2; return 1; }
    idx_head "$data/train-images-idx3-ubyte.gz" "$n" "$fm/train-images-idx3-ubyte"
    idx_head "$data/train-labels-idx1-ubyte.gz" "$n" "$fm/train-labels-idx1-ubyte"
    tar -C "$stage" -cf - fashion-mnist | xz -9e -T1 > "$kit/data.tar.xz"
    [ "$(stat -c %s "$kit/data.tar.xz")" -gt "$left" ] || break
    n=$((n * 95 / 100))
  done
  local commit; commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src kernels bench tests tools || echo "+changes")
  {
    echo "commit $commit"
    echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "train_images $n"
    echo "test_images 10000"
    echo "programs $(stat -c %s "$kit/programs.tar.xz")"
    echo "data $(stat -c %s "$kit/data.tar.xz")"
    echo "data_source $(cat "$data/source.json" 2>/dev/null | tr -d "\n")"
  } > "$kit/MANIFEST"
  rm -rf "$stage"
  echo "gpu-check: packed $kit/: programs $(mib "$(stat -c %s "$kit/programs.tar.xz")"), Fashion-MNIST $(mib "$(stat -c %s "$kit/data.tar.xz")") ($n training and 10000 test images)"
  payload
  cat <<EOF

On a lent GPU, one call of the device tool's run (about 9 minutes of GPU time, plus its start):
  run(command: "bash tools/gpu-check.sh gpu", carry: ["$kit"], timeout_s: 590)
Its \$OUT comes back as at most 8 files; what to do with them: docs/gpu-kit.md.
EOF
}

# ---------------------------------------------------------------------------------------------
# ILGPU opens the CUDA driver as "libcuda.so" (its import is "cuda"); a driver mounted into a
# container may offer only libcuda.so.1. Then a link to it goes first on LD_LIBRARY_PATH (never
# the toolkit's stubs/libcuda.so, which has no GPU behind it).
cuda_driver_link() { # cuda_driver_link FOLDER
  local dirs d real=""
  IFS=: read -r -a dirs <<<"${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do
    case "$d" in */stubs*) continue ;; esac
    [ -e "$d/libcuda.so" ] && return 0
  done
  ldconfig -p 2>/dev/null | grep -q 'libcuda\.so ' && return 0
  for d in "${dirs[@]}" /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    case "$d" in */stubs*) continue ;; esac
    [ -n "$d" ] && [ -e "$d/libcuda.so.1" ] && { real="$d/libcuda.so.1"; break; }
  done
  [ -n "$real" ] || real=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 / { print $NF; exit }')
  [ -n "$real" ] || { echo "gpu-check: no libcuda.so.1 found; ILGPU will see no CUDA device" >&2; return 0; }
  mkdir -p "$1"
  ln -sf "$real" "$1/libcuda.so"
  export LD_LIBRARY_PATH="$1${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "gpu-check: libcuda.so -> $real, first on LD_LIBRARY_PATH"
}

# ---------------------------------------------------------------------------------------------
unpack() { # unpack TARGET: the kit's programs and data into TARGET
  local target=$1 archive
  [ -s "$kit/programs.tar.xz" ] && [ -s "$kit/data.tar.xz" ] || { echo "error: no packed kit in $kit/ (tools/gpu-check.sh pack)" >&2; exit 2; }
  rm -rf "$target"; mkdir -p "$target"
  for archive in "$kit/programs.tar.xz" "$kit/data.tar.xz"; do
    if command -v xz >/dev/null; then
      tar -C "$target" -xJf "$archive"
    else # Python's lzma where there is no xz
      python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$target"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# The steps, on the GPU (device cuda) or here (device opencl, inside tools/with-opencl.sh).
# Each step has its own time limit, cut to what is left of the whole run's deadline; a step
# that has less than 20 s left is skipped, saying so. Each step's output is in $out as it ends,
# and summary.txt grows by one line per step.
steps() { # steps DEVICE RUNDIR OUTDIR DEADLINE_S EPOCHS LIMIT_SCALE
  local device=$1 run=$2 out=$3 deadline=$(( $(date +%s) + $4 )) epochs=$5 scale=${6:-1}
  local bin="$run/gpucnn-kit" data="$run/fashion-mnist" plan
  [ "$device" = cuda ] && plan=cuda || plan=opencl-gpu
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  local summary="$out/summary.txt"
  mkdir -p "$out"
  {
    echo "GpuCnn GPU kit, device $device, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    sed 's/^/kit: /' "$run/MANIFEST" 2>/dev/null || true
  } > "$summary"

  step() { # step NAME LIMIT_S FILE COMMAND...: runs it under timeout, logs into FILE
    local name=$1 limit=$2 file=$3; shift 3
    if [ -n "${GPUKIT_STEPS:-}" ] && ! grep -qw "$name" <<<"$GPUKIT_STEPS"; then
      echo "$name: not asked for (GPUKIT_STEPS=$GPUKIT_STEPS)" >>"$summary"
      return 0
    fi
    local left=$((deadline - $(date +%s) - 5))
    limit=$((limit * scale))
    [ "$limit" -le "$left" ] || limit=$left
    if [ "$limit" -lt 20 ]; then
      echo "$name: skipped, ${left}s left of the run" | tee -a "$summary"
      return 0
    fi
    echo "== $name (at most ${limit}s): $*" | tee "$out/$file"
    local start=$SECONDS rc=0
    timeout -k 10 "$limit" "$@" >>"$out/$file" 2>&1 || rc=$?
    local verdict="ok"
    [ "$rc" = 0 ] || verdict="FAILED (exit $rc)"
    [ "$rc" = 124 ] || [ "$rc" = 137 ] && verdict="TIMED OUT after ${limit}s"
    echo "$name: $verdict, $((SECONDS - start))s" | tee -a "$summary"
    return 0
  }

  step devices 60 devices.txt "$bin/gpucnn" devices
  if [ "$device" = cuda ]; then
    { nvidia-smi; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; ldconfig -p | grep -E 'libcuda|libOpenCL'; } >>"$out/devices.txt" 2>&1 || true
  fi

  # The kernel, layer and training-equivalence tests on the device (their rows traited with the
  # plan) against the CPU accelerator's reference, and the launch-shape tests (on CUDA, also on
  # the GPU's own plan). A missing device fails them (GPUCNN_REQUIRE_*).
  local require; [ "$device" = cuda ] && require=GPUCNN_REQUIRE_CUDA=1 || require=GPUCNN_REQUIRE_OPENCL=1
  step tests 240 tests.txt env "$require" "$bin/GpuCnn.Tests" -preEnumerateTheories \
    -trait "plan=$plan" -trait kit=launch-shapes -noColor -noLogo -parallel none
  grep -E '^ +GpuCnn.Tests +Total:' "$out/tests.txt" 2>/dev/null | sed 's/^ */tests: /' >>"$summary" || true

  # Every pass of each model checked against the CPU accelerator before it is timed, then the
  # training step end to end (bench). 200 timed batches on a GPU, 20 here.
  local batches models=seed,seed-bn,resnet; [ "$device" = cuda ] && batches=201 || batches=21
  # He et al.'s ResNet-20 too, where the zoo has it.
  "$bin/gpucnn" summary --model resnet20 >/dev/null 2>&1 && models="$models,resnet20"
  step bench 150 bench.txt "$bin/gpucnn-bench" --device "$device" --models "$models" \
    --seconds 0.25 --batches "$batches" --json "$run/bench.json"
  grep -E 'training step \(end to end\)' "$out/bench.txt" 2>/dev/null | sed 's/^/bench: /' >>"$summary" || true

  # The Keras-default training of the seed model: 15 epochs, Adam 1e-3, batch 128, 10 % validation,
  # on the kit's training images, then the 10,000 test images.
  local clock=$SECONDS
  step train 180 train.txt "$bin/gpucnn" train --device "$device" --model seed --epochs "$epochs" \
    --data-dir "$data" --run-dir "$run/train-seed"
  [ ! -f "$out/train.txt" ] || echo "train: wall $((SECONDS - clock))s for $epochs epochs of $(sed -n 's/^train_images //p' "$run/MANIFEST") training images" >>"$summary"
  grep -iE 'test accuracy' "$out/train.txt" 2>/dev/null | tail -n 1 | sed 's/^/train: /' >>"$summary" || true
  if [ -f "$run/train-seed/model.gpucnn" ]; then
    # The run folder as docs/results keeps it: the model without optimizer state, no checkpoint.
    "$bin/gpucnn" export "$run/train-seed" --gpucnn "$run/train-seed/model.gpucnn" >/dev/null 2>&1 || true
    rm -f "$run/train-seed/checkpoint.gpucnn" "$run/train-seed/run.lock"
  fi
  # $OUT takes 8 files: the bench's JSON and the run folder travel as one.
  local files=(); for f in bench.json train-seed; do [ -e "$run/$f" ] && files+=("$f"); done
  [ ${#files[@]} = 0 ] || tar -C "$run" -czf "$out/results.tar.gz" "${files[@]}"

  if [ "$device" = cuda ]; then
    # The same seed model in PyTorch on the same GPU: eager NCHW and channels_last.
    step pytorch 90 pytorch.txt env PYTHONUNBUFFERED=1 python3 bench/peer/torch_peer.py "$data" --device cuda --batches 400
    grep -E 'images/s' "$out/pytorch.txt" 2>/dev/null | sed 's/^/pytorch: /' >>"$summary" || true
    ratio "$out" >>"$summary"
    # memcheck over a short training run: 1,280 training and 1,000 test images, one epoch.
    local small="$run/fashion-mnist-small"
    mkdir -p "$small"
    idx_head "$data/train-images-idx3-ubyte" 1280 "$small/train-images-idx3-ubyte"
    idx_head "$data/train-labels-idx1-ubyte" 1280 "$small/train-labels-idx1-ubyte"
    idx_head "$data/t10k-images-idx3-ubyte" 1000 "$small/t10k-images-idx3-ubyte"
    idx_head "$data/t10k-labels-idx1-ubyte" 1000 "$small/t10k-labels-idx1-ubyte"
    step sanitizer 150 sanitizer.txt compute-sanitizer --tool memcheck --error-exitcode 3 \
      "$bin/GpuCnn.Cli" train --device cuda --model seed --epochs 1 --data-dir "$small" --run-dir "$run/sanitized"
    grep -E 'ERROR SUMMARY' "$out/sanitizer.txt" 2>/dev/null | tail -n 1 | sed 's/^/sanitizer: /' >>"$summary" || true
  else
    echo "pytorch: not in the dry run; sanitizer: not in the dry run" >>"$summary"
  fi
  echo "done: $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$summary"
  echo; cat "$summary"
  ! grep -qE ': (FAILED|TIMED OUT)' "$summary"
}

ratio() { # GpuCnn's seed training step against PyTorch's best layout, from the step logs
  local gpucnn torch
  gpucnn=$(sed -n 's/^seed training step (end to end).* \([0-9.]*\) images\/s.*/\1/p' "$1/bench.txt" 2>/dev/null | head -n 1 || true)
  torch=$(sed -n 's/^PyTorch .* seed training step .* \([0-9.]*\) images\/s over.*/\1/p' "$1/pytorch.txt" 2>/dev/null | sort -g | tail -n 1 || true)
  [ -n "$gpucnn" ] && [ -n "$torch" ] || { echo "ratio: missing (GpuCnn '$gpucnn', PyTorch '$torch')"; return 0; }
  awk -v g="$gpucnn" -v t="$torch" 'BEGIN { printf "ratio: seed training step, GpuCnn %s images/s / PyTorch best %s images/s = %.2f\n", g, t, g / t }'
}

# ---------------------------------------------------------------------------------------------
case "${1:-}" in
  payload) payload ;;
  pack) pack ;;
  gpu)
    out="${OUT:?the GPU run writes into \$OUT}"
    echo "gpu-check: unpacking"; start=$SECONDS
    unpack "$work"
    cp "$kit/MANIFEST" "$work/"
    cuda_driver_link "$PWD/$work/driver"
    steps cuda "$work" "$out" $(( ${GPUKIT_DEADLINE_S:-530} - (SECONDS - start) )) 15
    ;;
  --local)
    [ "${2:-}" = --no-pack ] && [ -s "$kit/programs.tar.xz" ] || pack
    out="${OUT:-$work/out}"
    unpack "$work"
    cp "$kit/MANIFEST" "$work/"
    rm -rf "$out"
    # The same steps from the packed kit, on PoCL: two CPU cores are far slower than a GPU, so each
    # step may take ten times its GPU limit, the whole an hour.
    tools/with-opencl.sh env GPUKIT_STEPS="${GPUKIT_STEPS:-}" bash tools/gpu-check.sh steps opencl "$work" "$out" 3600 "${GPUKIT_LOCAL_EPOCHS:-15}" 10
    ;;
  steps) shift; steps "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
