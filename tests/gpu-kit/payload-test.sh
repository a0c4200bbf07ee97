#!/usr/bin/env bash
# The GPU kit's size check (tools/gpu-check.sh payload), in under a second: what travels to the
# GPU machine is the tracked tree plus the carried kit, at most 60 MiB. Kits of given sizes are
# sparse files; the real tree is measured as it is. CI runs this on the host (it needs git).
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
kit_of() { rm -rf "$fake"/*; truncate -s "$1" "$fake/programs.tar.xz"; truncate -s "${2:-0}" "$fake/data.tar.xz"; }
payload() { GPUKIT_DIR="$fake" tools/gpu-check.sh payload 2>&1; }

tree=$(GPUKIT_DIR="$fake/none" tools/gpu-check.sh payload | sed -n 's/^payload: tree \([0-9.]*\) MiB.*/\1/p')
# The kit's programs take about 32 MiB and the test images 3.6 MiB: a tree over 22 MiB leaves
# too few training images for the GPU run (docs/gpu-kit.md).
check "the tracked tree ($tree MiB) leaves room for the kit (at most 22 MiB)" awk -v t="$tree" 'BEGIN { exit !(t > 0 && t <= 22) }'

kit_of 31M 9M
out=$(payload); rc=$?
check "a 40 MiB kit fits beside the tree: $out" test "$rc" = 0
check "the payload counts tree and kit" grep -q "carried .* 40.0 MiB" <<<"$out"

tree_bytes=$(awk -v t="$tree" 'BEGIN { printf "%d", t * 1048576 }')
kit_of $((60 * 1048576 - tree_bytes + 2 * 1048576)) 0
out=$(payload); rc=$?
check "a kit that takes the payload past 60 MiB is refused" test "$rc" = 1
check "the refusal says by how much" grep -q "over the 60 MiB budget by" <<<"$out"

kit_of $((60 * 1048576 - tree_bytes - 2 * 1048576)) 0
check "a kit just under the budget passes" payload >/dev/null
# carry sends the whole folder: a file below it counts as much as one in it.
mkdir -p "$fake/run" && truncate -s 4M "$fake/run/unpacked"
check "files in the kit's subfolders count too" test "$(payload >/dev/null; echo $?)" = 1

if [ -s .gpukit/programs.tar.xz ]; then
  check "the packed kit in .gpukit/ fits: $(tools/gpu-check.sh payload 2>&1 | head -n 1)" tools/gpu-check.sh payload >/dev/null
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
