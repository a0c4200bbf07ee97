using System.Text;

namespace GpuCnn.Training;

/// <summary>Precision, recall and F1 of one class, with its support (true count).</summary>
public sealed record ClassScores(string Name, double Precision, double Recall, double F1, int Support);

/// <summary>
/// The confusion matrix (rows: true class, columns: predicted) and the per-class report that
/// scikit-learn's classification_report prints, with macro and weighted averages.
/// </summary>
public sealed class ClassificationMetrics
{
    public int[,] Confusion { get; }
    public IReadOnlyList<ClassScores> Classes { get; }
    public double Accuracy { get; }
    public int Total { get; }

    public ClassificationMetrics(IReadOnlyList<int> predictions, IReadOnlyList<byte> labels, IReadOnlyList<string> classNames)
    {
        int k = classNames.Count;
        Confusion = new int[k, k];
        for (int i = 0; i < labels.Count; i++) Confusion[labels[i], predictions[i]]++;
        Total = labels.Count;
        Accuracy = Total == 0 ? 0 : Enumerable.Range(0, k).Sum(c => Confusion[c, c]) / (double)Total;
        Classes = Enumerable.Range(0, k).Select(c =>
        {
            int truePositives = Confusion[c, c];
            int predicted = Enumerable.Range(0, k).Sum(r => Confusion[r, c]);
            int actual = Enumerable.Range(0, k).Sum(p => Confusion[c, p]);
            double precision = predicted == 0 ? 0 : truePositives / (double)predicted;
            double recall = actual == 0 ? 0 : truePositives / (double)actual;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            return new ClassScores(classNames[c], precision, recall, f1, actual);
        }).ToList();
    }

    public ClassScores MacroAverage => new("macro avg", Classes.Average(c => c.Precision), Classes.Average(c => c.Recall),
        Classes.Average(c => c.F1), Total);

    public ClassScores WeightedAverage
    {
        get
        {
            double W(Func<ClassScores, double> f) => Total == 0 ? 0 : Classes.Sum(c => f(c) * c.Support) / Total;
            return new("weighted avg", W(c => c.Precision), W(c => c.Recall), W(c => c.F1), Total);
        }
    }

    /// <summary>The report as scikit-learn lays it out.</summary>
    public string Report()
    {
        var text = new StringBuilder();
        text.AppendLine($"{"",14}{"precision",10}{"recall",10}{"f1-score",10}{"support",10}");
        text.AppendLine();
        foreach (var c in Classes) text.AppendLine(Row(c));
        text.AppendLine();
        text.AppendLine($"{"accuracy",14}{"",10}{"",10}{Accuracy,10:F4}{Total,10}");
        text.AppendLine(Row(MacroAverage));
        text.AppendLine(Row(WeightedAverage));
        return text.ToString();
    }

    static string Row(ClassScores c) => $"{c.Name,14}{c.Precision,10:F4}{c.Recall,10:F4}{c.F1,10:F4}{c.Support,10}";
}
