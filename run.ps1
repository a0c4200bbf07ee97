#!/usr/bin/env pwsh
# GpuCnn's one entry point for the usual jobs. PowerShell 7; on Linux or macOS without pwsh:
#   dotnet tool restore; dotnet pwsh ./run.ps1 [-Task ...]
#
#   ./run.ps1                  train the reference model with the Keras defaults (the main job)
#   ./run.ps1 -Task test       run the test suite (what CI runs)
#   ./run.ps1 -Task bench      kernel and end-to-end benchmarks, JSON into artifacts/
#   ./run.ps1 -Task data       fetch Fashion-MNIST into the cache
#   ./run.ps1 -Task summary    print the model summaries
# Extra arguments go to the gpucnn command, e.g. ./run.ps1 -Device cuda -Extra '--epochs','3'
[CmdletBinding()]
param(
    [ValidateSet('train', 'test', 'bench', 'data', 'summary')]
    [string] $Task = 'train',
    [ValidateSet('auto', 'cuda', 'opencl', 'cpu')]
    [string] $Device = 'cpu',
    [string] $Model = 'seed',
    [string[]] $Extra = @()
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Checked([string] $Command, [string[]] $Arguments) {
    Write-Host "> $Command $($Arguments -join ' ')" -ForegroundColor DarkGray
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

$gpucnn = @('run', '-c', 'Release', '--project', 'src/GpuCnn.Cli', '--')
switch ($Task) {
    'train'   { Invoke-Checked dotnet ($gpucnn + @('train', '--device', $Device, '--model', $Model) + $Extra) }
    'test'    { Invoke-Checked dotnet @('test', '-c', 'Release') }
    'data'    { Invoke-Checked dotnet ($gpucnn + @('data', 'fetch') + $Extra) }
    'summary' { Invoke-Checked dotnet ($gpucnn + @('summary', '--model', $Model)) }
    'bench'   {
        New-Item -ItemType Directory -Force artifacts | Out-Null
        Invoke-Checked dotnet (@('run', '-c', 'Release', '--project', 'bench/GpuCnn.Bench', '--', '--device', $Device,
            '--json', "artifacts/bench-$Device.json") + $Extra)
    }
}
