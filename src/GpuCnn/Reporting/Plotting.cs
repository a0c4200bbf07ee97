using GpuCnn.Training;

namespace GpuCnn.Reporting;

/// <summary>
/// Draws a run's pictures as PNG files. The core library draws none itself (plotting needs a
/// native graphics library); the GpuCnn.Plots package's ScottPlotWriter is one.
/// </summary>
public interface IPlotWriter
{
    /// <summary>Accuracy and loss per epoch, train against validation.</summary>
    void TrainingCurves(IReadOnlyList<EpochMetrics> history, string path, string title);

    /// <summary>Validation accuracy and loss per epoch of several runs, one line per run.</summary>
    void ValidationCurves(IReadOnlyList<(string Model, IReadOnlyList<EpochMetrics> History)> runs, string path);

    /// <summary>Counts [true class, predicted class] as a labelled heatmap.</summary>
    void ConfusionMatrix(int[,] counts, IReadOnlyList<string> classNames, string path, string title);
}

/// <summary>The plot writer runs, campaigns and evaluations draw with.</summary>
public static class Plotting
{
    /// <summary>
    /// Null (the default): no pictures; every other file of a run is written as usual, and
    /// `gpucnn plot` or RunFolder.Redraw draws them later. The command line sets ScottPlot's.
    /// </summary>
    public static IPlotWriter? Writer { get; set; }

    /// <summary><see cref="Writer"/>, or an error that says how to get one (for callers whose only job is drawing).</summary>
    public static IPlotWriter Require() => Writer ?? throw new InvalidOperationException(
        "no plot writer: add the GpuCnn.Plots package and set Plotting.Writer = new GpuCnn.Plots.ScottPlotWriter() to draw plots.");
}
