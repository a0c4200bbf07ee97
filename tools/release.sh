#!/usr/bin/env bash
# Builds the self-contained release bundle: the gpucnn command and its bench for linux-x64 with
# the .NET runtime inside (no trimming: ILGPU emits IL at run time), packed as
# artifacts/gpucnn-linux-x64.tar.xz. It runs on a machine with no .NET, a GPU driver being all
# a CUDA device needs (docs/devices.md, Release bundle).
#   tools/release.sh [RID]      (default linux-x64)
set -euo pipefail
cd "$(dirname "$0")/.."
rid="${1:-linux-x64}"
out="artifacts/gpucnn-$rid"
rm -rf "$out" "$out.tar.xz"
for project in src/GpuCnn.Cli bench/GpuCnn.Bench; do
  dotnet publish "$project" -c Release -r "$rid" --self-contained -p:PublishTrimmed=false -o "$out" -nologo -v quiet
done
cp README.md "$out/"
ln -s GpuCnn.Cli "$out/gpucnn"
ln -s GpuCnn.Bench "$out/gpucnn-bench"
tar -C artifacts -cJf "$out.tar.xz" "gpucnn-$rid"
size=$(stat -c %s "$out.tar.xz")
echo "$out.tar.xz: $((size / 1024 / 1024)) MiB ($(du -sh "$out" | cut -f1) unpacked)"
limit=$((48 * 1024 * 1024))
[ "$size" -le "$limit" ] || { echo "error: the bundle is larger than 48 MiB" >&2; exit 1; }
