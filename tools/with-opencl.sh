#!/usr/bin/env bash
# Runs a command where ILGPU finds an OpenCL device it accepts (PoCL 4 or later).
#
#   tools/with-opencl.sh COMMAND [ARGS...]     e.g. tools/with-opencl.sh dotnet test -c Release
#
# If this machine's own PoCL is 4 or later, the command runs here as it is. Otherwise (Debian 12
# ships PoCL 3.1, which ILGPU refuses) it runs inside a minimal Debian 13 root holding PoCL 6,
# built once with debootstrap (about a minute, needs root) and cached in $GPUCNN_POCL_ROOT
# (default ~/.cache/gpucnn/pocl-root). The host's .NET SDK, NuGet cache, data cache, ptxas (if
# fetched) and this checkout are bind-mounted at their own paths, so the command sees the same files; every mount
# is undone when the command ends, however it ends.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

pocl_major() { # the installed pocl-opencl-icd's major version, or 0
  local v
  v=$(dpkg-query -W -f='${Version}' pocl-opencl-icd 2>/dev/null || true)
  echo "${v%%.*}" | grep -E '^[0-9]+$' || echo 0
}

if [ "$(pocl_major)" -ge 4 ] && [ -e /usr/lib/x86_64-linux-gnu/libOpenCL.so ]; then
  exec "$@"
fi

[ "$(id -u)" = 0 ] || { echo "error: PoCL >= 4 is not installed and building a Debian 13 root for it needs root" >&2; exit 2; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn"
root="${GPUCNN_POCL_ROOT:-$cache/pocl-root}"
dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
checkout=$(pwd -P)
nuget="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
# GpuCnn's data cache, where the command inside will look for it (DataOptions.DefaultCacheDir).
data="${GPUCNN_CACHE:+$GPUCNN_CACHE/fashion-mnist}"
data="${data:-$cache/fashion-mnist}"
mkdir -p "$cache" "$nuget" "$data"

# Debian's own mirror, read from this machine's apt setup rather than written here.
mirror() {
  sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n 1
}

build_root() {
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  local tmp="$root.tmp.$$" m
  m=$(mirror); [ -n "$m" ] || { echo "error: no Debian mirror found in /etc/apt/sources.list.d/debian.sources" >&2; exit 2; }
  echo "with-opencl: building a Debian 13 root with PoCL in $root (once)" >&2
  debootstrap --variant=minbase trixie "$tmp" "$m" >"$cache/pocl-root.log" 2>&1 \
    || { echo "error: debootstrap failed; see $cache/pocl-root.log" >&2; exit 2; }
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends pocl-opencl-icd ocl-icd-libopencl1 \
    libstdc++6 zlib1g libssl3t64 libicu76 ca-certificates nodejs mpich fontconfig fonts-dejavu-core chromium >>"$cache/pocl-root.log" 2>&1 \
    || { echo "error: installing PoCL in the root failed; see $cache/pocl-root.log" >&2; exit 2; }
  ln -sf libOpenCL.so.1 "$tmp/usr/lib/x86_64-linux-gnu/libOpenCL.so" # ILGPU loads libOpenCL.so
  chroot "$tmp" apt-get clean
  touch "$tmp/.gpucnn-pocl-ready"
  mv "$tmp" "$root" # a half-built root is never taken for a ready one
}

if [ "${GPUCNN_OPENCL_NAMESPACE:-0}" != 1 ]; then
exec 9>"$cache/pocl-root.lock"
# One run at a time, so that runs do not share the two cores unknowingly; a caller that means to
# run beside others (a timing wrapper that pauses the machine's other work) says so with
# GPUCNN_OPENCL_LOCKED=1. Building the root always waits for the lock.
[ "${GPUCNN_OPENCL_LOCKED:-0}" = 1 ] && [ -e "$root/.gpucnn-pocl-ready" ] || flock 9
[ -e "$root/.gpucnn-pocl-ready" ] || build_root
# Roots built before Node, MPICH, fonts and Chromium joined them (the ONNX Runtime Web and MPI tests;
# text in the plots, which a root without fonts draws without; the board's browser test) get them now.
# Every apt run in a ready root (here, and bench/peer/run.sh's PyTorch) takes pocl-root-install.lock,
# held only while installing: a caller with GPUCNN_OPENCL_LOCKED=1, or under tools/quiet.sh, does
# not hold fd 9's lock and must not wait for it, yet two apt runs must not share the root.
root_complete() {
  [ -x "$root/usr/bin/node" ] && [ -x "$root/usr/bin/mpiexec" ] && [ -d "$root/usr/share/fonts/truetype/dejavu" ] \
    && [ -x "$root/usr/bin/chromium" ]
}
if ! root_complete; then
  exec 8>"$cache/pocl-root-install.lock"
  flock 8
fi
if ! root_complete; then
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs mpich fontconfig fonts-dejavu-core chromium && apt-get clean' >>"$cache/pocl-root.log" 2>&1 \
    || { echo "error: installing Node, MPICH, fonts and Chromium in the root failed; see $cache/pocl-root.log" >&2; exit 2; }
fi
exec 8>&-

# Each run mounts in a mount namespace of its own (util-linux's unshare): its mounts are seen by
# nobody else and vanish with it however it ends, so runs side by side never take down each
# other's. The lock (fd 9) stays held across the exec.
GPUCNN_OPENCL_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi

bind() { # bind SOURCE [ro]: mount SOURCE at the same path inside the root
  local target="$root$1"
  mkdir -p "$target"
  mount --rbind "$1" "$target"
  if [ "${2:-}" = ro ]; then mount -o remount,bind,ro "$target"; fi
}

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys" # PoCL's hwloc reads the topology here
bind /dev
bind /etc/ssl/certs ro # this machine's trusted certificates, for NuGet restores inside the root
bind "$dotnet_dir" ro
bind "$nuget"
bind "$data"
[ -d "$cache/ptxas" ] && bind "$cache/ptxas" ro # tools/fetch-ptxas.sh's assembler, for the PTX tests
bind "$checkout"
mkdir -p "$root$HOME"

# Pass GpuCnn's settings and CI's flag through a clean environment.
# No build servers: a compiler server left running inside the root would keep its mounts busy.
envs=(PATH="$dotnet_dir:/usr/bin:/bin" HOME="$HOME" DOTNET_ROOT="$dotnet_dir" DOTNET_NOLOGO=1
      MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false
      DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1 NUGET_PACKAGES="$nuget")
while IFS='=' read -r name value; do
  case "$name" in GPUCNN_*|CI|TERM|XDG_CACHE_HOME) envs+=("$name=$value") ;; esac
done < <(env)

set +e
chroot "$root" /usr/bin/env -i "${envs[@]}" /bin/sh -c 'cd "$0" && exec "$@"' "$checkout" "$@" 9>&-
status=$?
set -e
exit $status
