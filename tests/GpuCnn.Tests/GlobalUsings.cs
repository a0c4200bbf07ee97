global using Xunit;
global using GpuCnn.Runs;
