using GpuCnn.IO;
using GpuCnn.Reporting;
using GpuCnn.Training;
using ScottPlot;

namespace GpuCnn.Plots;

/// <summary>
/// The training curves and the confusion-matrix heatmap, as PNG files (ScottPlot 5), written
/// atomically. Plug it in with Plotting.Writer = new ScottPlotWriter().
/// </summary>
/// <param name="warning">Where a warning goes (the caller's logger; the command line sends it to stderr). Null: nowhere.</param>
public sealed class ScottPlotWriter(Action<string>? warning = null) : IPlotWriter
{
    int fontsChecked;

    /// <summary>
    /// On a machine without fonts (a minimal container or chroot) Skia draws every plot without
    /// text; say so once rather than leave textless pictures unexplained.
    /// </summary>
    void CheckFonts()
    {
        if (Interlocked.Exchange(ref fontsChecked, 1) == 0 && SkiaSharp.SKTypeface.Default.GlyphCount == 0)
            warning?.Invoke("no fonts found on this machine, so plots will have no text; install one (Debian: apt-get install fonts-dejavu-core), then redraw the run's plots from its files.");
    }

    /// <summary>Accuracy and loss per epoch, train against validation, side by side.</summary>
    public void TrainingCurves(IReadOnlyList<EpochMetrics> history, string path, string title)
    {
        CheckFonts();
        double[] epochs = history.Select(m => (double)m.Epoch).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Curves(multiplot.GetPlot(0), epochs, history.Select(m => m.Accuracy), history.Select(m => m.ValAccuracy), "Accuracy", title);
        Curves(multiplot.GetPlot(1), epochs, history.Select(m => m.Loss), history.Select(m => m.ValLoss), "Loss", title);
        AtomicFile.Write(path, file => multiplot.SavePng(file, 1200, 450));
    }

    static void Curves(Plot plot, double[] epochs, IEnumerable<double> train, IEnumerable<double> validation, string what, string title)
    {
        var t = plot.Add.Scatter(epochs, train.ToArray());
        t.LegendText = "train";
        var v = validation.ToArray();
        if (v.All(double.IsFinite))
        {
            var s = plot.Add.Scatter(epochs, v);
            s.LegendText = "validation";
        }
        plot.Title($"{title}: {what.ToLowerInvariant()}");
        plot.XLabel("Epoch");
        plot.YLabel(what);
        plot.ShowLegend(Alignment.MiddleRight);
    }

    /// <summary>Validation accuracy and loss per epoch of several runs, one line per model, side by side.</summary>
    public void ValidationCurves(IReadOnlyList<(string Model, IReadOnlyList<EpochMetrics> History)> runs, string path)
    {
        CheckFonts();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        foreach (var (index, what, pick) in new (int, string, Func<EpochMetrics, double>)[]
                 { (0, "Validation accuracy", m => m.ValAccuracy), (1, "Validation loss", m => m.ValLoss) })
        {
            var plot = multiplot.GetPlot(index);
            foreach (var (model, history) in runs)
            {
                var line = plot.Add.Scatter(history.Select(m => (double)m.Epoch).ToArray(), history.Select(pick).ToArray());
                line.LegendText = model;
            }
            plot.Title(what);
            plot.XLabel("Epoch");
            plot.YLabel(what);
            plot.ShowLegend(Alignment.MiddleRight);
        }
        AtomicFile.Write(path, file => multiplot.SavePng(file, 1200, 450));
    }

    /// <summary>A heatmap of counts, true class down, predicted class across, each cell labelled.</summary>
    public void ConfusionMatrix(int[,] counts, IReadOnlyList<string> classNames, string path, string title)
    {
        CheckFonts();
        int k = classNames.Count;
        double max = Math.Max(1, counts.Cast<int>().Max());
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Blues();
        // One filled square per cell, centred on (x = predicted, y = true); the y axis runs downwards.
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
            {
                double fraction = counts[r, c] / max;
                var cell = plot.Add.Rectangle(c - 0.5, c + 0.5, r - 0.5, r + 0.5);
                cell.FillColor = colormap.GetColor(1 - fraction);
                cell.LineWidth = 0;
                var label = plot.Add.Text(counts[r, c].ToString(), c, r);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 12;
                label.LabelFontColor = fraction > 0.5 ? Colors.White : Colors.Black;
            }
        double[] ticks = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, classNames.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Right.MinimumSize = 40;
        plot.Axes.Left.SetTicks(ticks, classNames.ToArray());
        plot.Axes.SetLimits(-0.5, k - 0.5, k - 0.5, -0.5);
        plot.Title(title);
        plot.XLabel("Predicted class");
        plot.YLabel("True class");
        AtomicFile.Write(path, file => plot.SavePng(file, 900, 800));
    }
}
