using System.Diagnostics;

namespace GpuCnn.Reporting;

/// <summary>
/// Counts the images an evaluation has scored (the test set after training, `gpucnn evaluate`):
/// on a terminal a line redrawn in place ("4,096/10,000 test images scored"), then one final line
/// with the time it took; elsewhere (CI, pipes) the final line only. Its Report is the
/// progress callback of Model.Evaluate.
/// </summary>
public sealed class ScoringProgress(TextWriter output, bool live, string what = "test")
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    int width;

    public void Report(int scored, int total)
    {
        if (scored < total)
        {
            if (!live) return;
            string line = $"{scored:N0}/{total:N0} {what} images scored";
            width = Math.Max(width, line.Length);
            output.Write("\r" + line);
            output.Flush();
            return;
        }
        if (live && width > 0) output.Write("\r" + new string(' ', width) + "\r");
        output.WriteLine($"{total:N0}/{total:N0} {what} images scored in {clock.Elapsed.TotalSeconds:F1} s");
        output.Flush();
    }
}
