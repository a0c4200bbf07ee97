#!/usr/bin/env bash
# A picture of the board, as docs/board.png was made: starts `gpucnn board RUNS_DIR` on a free
# port, has headless Chromium (Debian's chromium) draw the page into PNG, and stops the board.
#
#   tools/board-screenshot.sh RUNS_DIR OUT.png [ADDRESS_FRAGMENT] [WIDTHxHEIGHT]
#   e.g. tools/board-screenshot.sh runs docs/board.png 'runs=a,b&focus=a' 1400x1700
#
# The fragment chooses what the page shows (runs=ID,ID ticks runs; focus=ID shows one's details).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 RUNS_DIR OUT.png [ADDRESS_FRAGMENT] [WIDTHxHEIGHT]" >&2; exit 2; }
runs=$1 out=$2 fragment=${3:-} size=${4:-1400x1700}
chromium=$(command -v chromium || command -v chromium-browser) || { echo "error: chromium is not installed (Debian: apt-get install chromium)" >&2; exit 2; }
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet run -c Release --project src/GpuCnn.Cli -- board "$runs" --port 0 >"$log" 2>&1 &
board=$!
trap 'kill "$board" 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 1 600); do
  url=$(grep -o 'http://[^ ]*' "$log" || true)
  [ -n "$url" ] && break
  kill -0 "$board" 2>/dev/null || { cat "$log" >&2; exit 2; }
  sleep 0.2
done
[ -n "$url" ] || { echo "error: the board printed no address" >&2; exit 1; }
# --no-sandbox: Chromium refuses to start as root with its sandbox; the page is the board's own.
# The virtual time lets the page fetch the runs and draw before the picture is taken; it stands
# still while a request is open, so a run still training (its event stream open) is taken when it ends.
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${size/x/,}" \
  --virtual-time-budget=8000 --screenshot="$(realpath -m "$out")" "$url#$fragment" 2>/dev/null
echo "$out: $url#$fragment"
