#!/usr/bin/env bash
# Packs every package of the solution into artifacts/packages and checks them as a user would
# see them: dotnet pack prints no warning; the core packages (GpuCnn, GpuCnn.Kernels) depend on
# neither plotting (ScottPlot, SkiaSharp, HarfBuzzSharp) nor MPI.NET; every package has a licence
# expression and a readme; the gpucnn tool package is at most 40 MB. Prints each package's size.
#   tools/pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/packages
rm -rf "$out"
log=$(mktemp)
if ! dotnet pack GpuCnn.sln -c Release -o "$out" -nologo >"$log" 2>&1; then cat "$log"; exit 1; fi
if grep -E ": warning [A-Z]+[0-9]+" "$log"; then echo "error: dotnet pack warned (above)" >&2; exit 1; fi
rm -f "$log"
python3 - "$out" <<'PY'
import re, sys, zipfile, pathlib
folder = pathlib.Path(sys.argv[1])
heavy = ("ScottPlot", "SkiaSharp", "HarfBuzzSharp", "MPI.NET")
problems = []
packages = sorted(folder.glob("*.nupkg"))
for package in packages:
    with zipfile.ZipFile(package) as z:
        nuspec = z.read(next(n for n in z.namelist() if n.endswith(".nuspec"))).decode()
        names = z.namelist()
    id = re.search(r"<id>([^<]+)</id>", nuspec).group(1)
    dependencies = re.findall(r'<dependency id="([^"]+)"', nuspec)
    size = package.stat().st_size
    shown = f"{size / 1e6:.1f} MB ({size:,} bytes)" if size >= 1e6 else f"{size / 1e3:.0f} kB"
    print(f"{package.name}: {shown}; depends on {', '.join(dependencies) or 'nothing'}")
    if '<license type="expression">MIT</license>' not in nuspec: problems.append(f"{id} has no MIT licence expression")
    if "<readme>README.md</readme>" not in nuspec or "README.md" not in names: problems.append(f"{id} has no readme")
    if id in ("GpuCnn", "GpuCnn.Kernels") and any(d.startswith(heavy) for d in dependencies):
        problems.append(f"{id} depends on {', '.join(d for d in dependencies if d.startswith(heavy))}")
    if id == "GpuCnn.Cli" and size > 40_000_000: problems.append(f"the tool package is {size / 1e6:.1f} MB, above 40 MB")
if len({re.search(r"\.(\d+\.\d+\.\d+)\.nupkg$", p.name).group(1) for p in packages}) != 1: problems.append("the packages differ in version")
if problems: sys.exit("error: " + "; ".join(problems))
PY
