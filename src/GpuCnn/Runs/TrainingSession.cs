using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Distributed;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Reporting;
using GpuCnn.Reporting.TensorBoard;
using GpuCnn.Training;

namespace GpuCnn.Runs;

/// <summary>The result of a training run: per-epoch history and the test evaluation.</summary>
public sealed record TrainingResult(string Model, int Parameters, IReadOnlyList<EpochMetrics> History, Evaluation Test,
    bool StoppedEarly, ClassificationMetrics Metrics, string RunFolder);

/// <summary>
/// One training run, start to end: device, data, model, <see cref="Model.Fit"/>, the test
/// evaluation and the run folder's files; or the same continued from a run folder's checkpoint.
/// `gpucnn train` and `gpucnn compare` are its callers. It writes its progress to
/// <paramref name="output"/> and nothing to the console.
/// In a data-parallel job every rank runs it with the same <paramref name="parallel"/>: each opens
/// its own device (GPU number local rank modulo the count), takes its share of every batch and of
/// the evaluations, and starts from rank 0's weights; only rank 0 owns the run folder and writes.
/// </summary>
public sealed class TrainingSession(TextWriter output, bool liveProgress = false, DataParallel? parallel = null)
{
    /// <summary>Further observers, told after the run folder has checkpointed each epoch.</summary>
    public IReadOnlyList<ITrainingObserver> Observers { get; init; } = [];

    /// <summary>
    /// Where the run's TensorBoard events file goes (Keras's log_dir); null: the run folder. Each
    /// start or resume adds a new events file there.
    /// </summary>
    public string? TensorBoardDirectory { get; init; }

    bool IsRoot => parallel?.IsRoot ?? true;

    /// <summary>Trains a new run into its own folder (refused when the folder is in use or not empty).</summary>
    public TrainingResult Start(RunSpec run, Hyperparameters hyperparameters, DataSpec data)
    {
        using var folder = IsRoot ? RunFolder.Create(run.Folder ?? RunFolder.DefaultPath(run.ModelName)) : null;
        using var device = OpenDevice(run.Device, hyperparameters.BatchSize);
        var images = LoadData(data, hyperparameters.Seed);
        using var model = Compile(run, hyperparameters, images, device);
        model.Run = new RunRecord(run.Command, parallel?.Size ?? 1, data);
        if (run.InitFrom is { } source)
        {
            var report = model.LoadWeightsFrom(source);
            output.WriteLine($"Weights from {model.Run.InitFrom}:");
            foreach (var line in report) output.WriteLine($"  {line}");
        }
        return Train(model, images, folder, run.Command);
    }

    /// <summary>
    /// Continues the run in request.Folder from its last complete checkpoint: the epochs left,
    /// or more when request.Epochs is above the run's (as Keras's fit with initial_epoch), with the
    /// same optimizer state and schedule rule; a run whose training was complete gets its final
    /// phase (test evaluation, model, reports) if that had not been written. Null when the run is
    /// finished and nothing is left to do.
    /// </summary>
    public TrainingResult? Resume(ResumeRequest request)
    {
        using var folder = IsRoot ? RunFolder.Open(request.Folder) : null;
        string checkpoint = Path.Combine(request.Folder, RunFiles.Checkpoint);
        var header = Checkpoint.Load(checkpoint).Header;
        int ranks = parallel?.Size ?? 1;
        if (header.Run.Ranks != ranks)
            throw new RunException($"{request.Folder}: the run was trained by {header.Run.Ranks} rank(s) and this is {ranks}; " +
                                   (header.Run.Ranks == 1 ? "resume it without mpiexec." : $"resume it with mpiexec -n {header.Run.Ranks}."));
        int epochs = request.Epochs ?? header.Hyperparameters.Epochs;
        if (epochs < header.History.Count)
            throw new RunException($"{request.Folder} has trained {header.History.Count} epochs already; ask for more epochs than that, not {epochs}.");
        var hyperparameters = header.Hyperparameters with { Epochs = epochs };
        if (Trainer.IsTrainingComplete(header.History, hyperparameters) && RunFolder.IsFinished(request.Folder))
        {
            output.WriteLine($"{request.Folder} already finished after {header.History.Count} epochs; nothing to resume.");
            return null;
        }
        var data = (header.Run.Data ?? new DataSpec()) with
        {
            DataDir = request.DataDir ?? header.Run.Data?.DataDir,
            CacheDir = request.CacheDir ?? header.Run.Data?.CacheDir,
        };
        using var device = OpenDevice(request.Device, hyperparameters.BatchSize);
        var images = LoadData(data, hyperparameters.Seed);
        using var model = Model.Load(checkpoint, device, parallel);
        model.Run = header.Run with { Data = data };
        output.WriteLine($"Resumed from {request.Folder} after epoch {header.History.Count}" +
                         (epochs > header.Hyperparameters.Epochs ? $"; training further, to {epochs} epochs." : ".") +
                         (Trainer.IsTrainingComplete(header.History, hyperparameters) ? " Training is complete; writing the test evaluation, model and reports." : ""));
        return Train(model, images, folder, request.Command, epochs);
    }

    ComputeDevice OpenDevice(DeviceKind kind, int batchSize)
    {
        var device = ComputeDevice.Open(kind, ordinal: parallel?.LocalRank ?? 0);
        output.WriteLine($"Device: {device.Info} - launch plan {device.Plan.Name}");
        if (parallel is not null)
        {
            int fewest = batchSize / parallel.Size, most = (batchSize + parallel.Size - 1) / parallel.Size;
            output.WriteLine($"Data-parallel on {parallel.Size} MPI ranks: each takes {(fewest == most ? $"{most}" : $"{fewest}-{most}")} rows of every batch of {batchSize}.");
            var ranks = parallel.Describe(device.Info.ToString());
            for (int rank = 0; rank < ranks.Count; rank++) output.WriteLine($"  rank {rank}: {ranks[rank]}");
        }
        return device;
    }

    /// <summary>The data; in a data-parallel run rank 0 loads (and if need be fetches) it first, so that ranks sharing a cache do not fetch it together.</summary>
    ImageDataset LoadData(DataSpec spec, int seed)
    {
        ImageDataset Load() => spec.Load(seed, line => output.WriteLine("data: " + line));
        ImageDataset? data = parallel is null || parallel.IsRoot ? Load() : null;
        parallel?.Barrier();
        data ??= Load();
        output.WriteLine($"Data: {data.Source}");
        if (!data.IsFashionMnist)
            output.WriteLine($"Classes: {string.Join(", ", data.ClassNames)}; pictures {string.Join("x", data.Train.Shape)}.");
        return data;
    }

    /// <summary>
    /// The zoo model for the data's picture shape and class count, or the architecture given
    /// (which must take that shape and give one output per class), checked before anything is
    /// allocated; a mismatch is one clear line.
    /// </summary>
    Model Compile(RunSpec run, Hyperparameters hyperparameters, ImageDataset data, ComputeDevice device)
    {
        int[] shape = data.Train.Shape;
        Sequential network;
        try
        {
            network = run.Network(shape, data.Classes);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"model '{run.ModelName}': {e.Message}");
        }
        try
        {
            if (!network.InputShape.SequenceEqual(shape))
                throw new ArgumentException($"it takes {string.Join("x", network.InputShape)} pictures but the data's are {string.Join("x", shape)}.");
            // Shapes, names, classes and memory, before anything is allocated.
            network.Validate(data.Classes, hyperparameters.BatchSize, device.AvailableMemoryBytes, device.Plan);
            return Model.Compile(network, device, hyperparameters, data.IsFashionMnist ? null : data.ClassNames, parallel);
        }
        catch (ArgumentException e)
        {
            network.Dispose();
            throw new ArgumentException(run.Architecture is null
                ? $"model '{run.Model}' cannot take {string.Join("x", shape)} pictures: {e.Message} Choose a larger picture size or another model."
                : $"model '{network.Name}': {e.Message}");
        }
    }

    TrainingResult Train(Model model, ImageDataset data, RunFolder? folder, string command, int? epochs = null)
    {
        var hyperparameters = model.Hyperparameters with { Epochs = epochs ?? model.Hyperparameters.Epochs };
        int validation = (int)Math.Floor(data.Train.Count * hyperparameters.ValidationSplit);
        var network = model.Network;
        if (network.FrozenLayers > 0)
            output.WriteLine($"Frozen: {network.Layers[0].Name} to {model.Hyperparameters.Freeze} ({network.FrozenCount:N0} weights fixed, run as at inference; " +
                             $"{network.TrainableCount - network.FrozenCount:N0} trained).");
        output.WriteLine($"Training on {data.Train.Count - validation} images, validating on {validation}, testing on {data.Test.Count}.");
        List<ITrainingObserver> observers = [new ConsoleProgress(output, hyperparameters.Epochs, liveProgress)];
        folder?.Start(model, hyperparameters, command);
        using var board = folder is null ? null : OpenTensorBoard(folder);
        // The log after the folder: the folder redraws the curves the log then reads.
        if (folder is not null) observers.AddRange([folder, board!]);
        // Reading the running loss is a collective in a data-parallel run: the other ranks keep the log's pace.
        else if (parallel is not null) observers.Add(new ProgressPace(TensorBoardLog.DefaultProgressInterval));
        observers.AddRange(Observers);
        model.Fit(data.Train, hyperparameters.Epochs - model.History.Count, observers: [.. observers]);
        if (model.StoppedEarly)
            output.WriteLine($"Early stopping: validation loss did not improve for {hyperparameters.EarlyStoppingPatience} epochs.");
        output.WriteLine($"Scoring the {data.Test.Count:N0} test images...");
        var test = model.Evaluate(data.Test, progress: new ScoringProgress(output, liveProgress).Report);
        output.WriteLine($"Test accuracy: {test.Accuracy:P2} - test loss: {test.Loss:F4} ({data.Test.Count} images)");
        var metrics = folder?.Finish(test) ?? new ClassificationMetrics(test.Predictions, test.Labels, model.ClassNames);
        if (folder is not null) board!.Test(test, model.History.Count, Path.Combine(folder.Path, RunFiles.ConfusionPlot));
        output.WriteLine();
        output.Write(metrics.Report());
        if (folder is not null) output.WriteLine($"Run folder: {folder.Path}");
        return new TrainingResult(model.Network.Name, model.Network.TrainableCount + model.Network.NonTrainableCount, model.History.ToList(),
            test, model.StoppedEarly, metrics, folder?.Path ?? "");
    }

    /// <summary>A new events file for the run (in the run folder unless told otherwise), starting with its settings.</summary>
    TensorBoardLog OpenTensorBoard(RunFolder folder)
    {
        var board = new TensorBoardLog(TensorBoardDirectory ?? folder.Path, curvesFile: Path.Combine(folder.Path, RunFiles.TrainingPlot));
        board.Settings(File.ReadAllText(Path.Combine(folder.Path, RunFiles.Settings)));
        return board;
    }

    /// <summary>Asks for progress every <paramref name="interval"/> batches and does nothing with it.</summary>
    sealed class ProgressPace(int interval) : ITrainingObserver
    {
        public int ProgressInterval => interval;
    }
}
