namespace GpuCnn.Training;

/// <summary>What one epoch measured. Validation figures are NaN when there is no validation split.</summary>
public sealed record EpochMetrics(int Epoch, double Loss, double Accuracy, double ValLoss, double ValAccuracy,
    double Seconds, double ImagesPerSecond, double LearningRate);

/// <summary>Loss and accuracy of a pass over a data set, with every prediction.</summary>
public sealed record Evaluation(double Loss, double Accuracy, int[] Predictions, byte[] Labels);

/// <summary>The loss stopped being a finite number.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
