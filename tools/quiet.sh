#!/usr/bin/env bash
# Runs a command with the PoCL root's lock held (or beside the background run that holds it) and
# every other heavy process on the machine paused (SIGSTOP), that run included, and ones started
# while it runs; it resumes them all at the end: the
# timing runs in docs/performance.md that say "other work paused" ran under it, on a 2-core
# machine shared with builds and tests. It pauses processes it does not own, so use it only on
# a machine of your own, for minutes at a time.
#   tools/quiet.sh COMMAND...          e.g. tools/quiet.sh bench/peer/run.sh
set -u
exec 9>"${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn/pocl-root.lock"
flock -n 9 || echo "quiet: a background run holds the PoCL lock; it is paused like the rest" >&2
me=$$
list=$(mktemp); mine=$(mktemp)
related() { # 0 when pid is an ancestor or a descendant of this script
  local p=$1 a
  a=$me; while [ -n "$a" ] && [ "$a" -gt 1 ]; do [ "$a" = "$p" ] && return 0; a=$(ps -o ppid= -p "$a" 2>/dev/null | tr -d ' '); done
  a=$p; while [ -n "$a" ] && [ "$a" -gt 1 ]; do [ "$a" = "$me" ] && return 0; a=$(ps -o ppid= -p "$a" 2>/dev/null | tr -d ' '); done
  return 1
}
sweep() {
  for pid in $(pgrep -f 'dotnet|python|node|chromium|mpiexec|hydra|MSBuild|VBCSCompiler|GpuCnn|testhost|vstest|npm|ptxas|cc1|ld'); do
    grep -qx "$pid" "$list" "$mine" && continue
    related "$pid" && { echo "$pid" >> "$mine"; continue; }
    kill -STOP "$pid" 2>/dev/null && echo "$pid" >> "$list"
  done
}
resume() { kill "$watcher" 2>/dev/null; while read -r p; do kill -CONT "$p" 2>/dev/null; done < "$list"; rm -f "$list" "$mine"; }
sweep
( while sleep 0.5; do sweep; done ) & watcher=$!
trap resume EXIT
sleep 5
echo "quiet: paused $(wc -l < "$list") processes; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
GPUCNN_OPENCL_LOCKED=1 "$@"
