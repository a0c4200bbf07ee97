#!/usr/bin/env bash
# Puts NVIDIA's PTX assembler (ptxas 11.8, from Debian 12's non-free nvidia-cuda-toolkit) in
# ~/.cache/gpucnn/ptxas/ and prints its path. No GPU, driver or install is needed: the package
# is downloaded and unpacked, nothing else on the system changes. Reuses an earlier download.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gpucnn/ptxas"
ptxas="$cache/usr/bin/ptxas"
if [ ! -x "$ptxas" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/sources" "$work/lists/partial" "$work/archives/partial"
  # This machine's Debian sources, with the non-free component added, in a private apt setup.
  sed 's/^Components:.*/Components: main non-free/' /etc/apt/sources.list.d/debian.sources > "$work/sources/debian.sources"
  apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/sources"
            -o Dir::State::Lists="$work/lists" -o Dir::Cache::Archives="$work/archives" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update >&2
  (cd "$work" && apt-get "${apt_opts[@]}" -qq download nvidia-cuda-toolkit >&2)
  mkdir -p "$cache.tmp"
  dpkg -x "$work"/nvidia-cuda-toolkit_*.deb "$cache.tmp"
  rm -rf "$cache"; mv "$cache.tmp" "$cache"
fi
"$ptxas" --version >&2
echo "$ptxas"
