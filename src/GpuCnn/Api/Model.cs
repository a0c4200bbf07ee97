using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Distributed;
using GpuCnn.Export;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn;

/// <summary>
/// A network compiled onto a device for training, as a Keras model after compile(): Fit,
/// Evaluate, Predict, Save, Load and ONNX export. The same trainer, kernels and checkpoints as
/// `gpucnn train`.
/// <code>
/// using var device = ComputeDevice.Open(DeviceKind.Auto);
/// using var model = Model.Compile(new Sequential("mine", [28, 28, 1], [new Conv2D(16, 3, Activation.Relu), ...]), device, new Hyperparameters { BatchSize = 64 });
/// model.Fit(train, epochs: 5);
/// var test = model.Evaluate(testSet);
/// model.Save("mine.gpucnn");
/// </code>
/// </summary>
public sealed class Model : IDisposable
{
    Optimizer optimizer;
    readonly SoftmaxCrossEntropy loss;
    readonly DataParallel? parallel;
    /// <summary>The average of the weights (Hyperparameters.EmaDecay), or null.</summary>
    readonly EmaWeights? ema;

    /// <summary>
    /// The layers, built on <see cref="Device"/>. With Hyperparameters.EmaDecay they hold the
    /// average of the weights, as Evaluate, Predict, Save and ExportOnnx use it, except while
    /// <see cref="Fit"/> trains the live weights.
    /// </summary>
    public Sequential Network { get; }
    public ComputeDevice Device { get; }
    /// <summary>Batch size, optimizer, learning rate, seed, schedule, augmentation, early stopping; <see cref="Fit"/> moves Epochs to the epochs it trains up to.</summary>
    public Hyperparameters Hyperparameters { get; private set; }
    /// <summary>One entry per epoch trained so far (also after <see cref="Load"/>).</summary>
    public List<EpochMetrics> History { get; } = [];
    public int Classes => Network.OutputShape[^1];
    /// <summary>The name of each class (saved in the model file; predict and evaluate report with them).</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Whether pictures are read as your own data set's (resized, grey or RGB) rather than fitted Fashion-MNIST-style.</summary>
    public bool OwnPictures { get; }
    /// <summary>What the model's files say of the run that trains it: command line, ranks and data (a run sets it; the library's own otherwise).</summary>
    public RunRecord Run { get; set; } = RunRecord.Library;

    Model(Sequential network, ComputeDevice device, Hyperparameters hyperparameters, IReadOnlyList<string>? classNames, DataParallel? parallel)
    {
        ClassNames = classNames ?? (network.OutputShape[^1] == FashionMnist.Classes ? FashionMnist.ClassNames
            : [.. Enumerable.Range(0, network.OutputShape[^1]).Select(i => $"class {i}")]);
        OwnPictures = classNames is not null;
        Network = network;
        Device = device;
        Hyperparameters = hyperparameters;
        this.parallel = parallel;
        network.Freeze(hyperparameters.Freeze);
        ema = EmaWeights.For(network, hyperparameters);
        optimizer = CreateOptimizer();
        loss = new SoftmaxCrossEntropy(device, hyperparameters.BatchSize, Classes);
    }

    /// <summary>A fresh optimizer over the layers that are not frozen: it keeps no state for the frozen ones.</summary>
    Optimizer CreateOptimizer()
    {
        var h = Hyperparameters;
        var (parameters, gradients) = Network.TrainedBuffers();
        return Optimizer.Create(h.Optimizer, Device, parameters, gradients, h.LearningRate,
            h.WeightDecay, h.WeightDecay == 0 ? null : Network.ParameterMask(p => h.DecayAll || Decays(p)));
    }

    /// <summary>What a data-parallel job makes identical on every rank besides the weights: the optimizer's state and the average's.</summary>
    IEnumerable<Tensor> TrainingBuffers => optimizer.State.Select(s => s.Value).Concat(ema?.Buffers ?? []);

    /// <summary>The network with the weights that are evaluated, saved and exported in it (the average, with an EMA).</summary>
    Sequential Averaged()
    {
        ema?.UseAverage();
        return Network;
    }

    /// <summary>Weight decay's default reach: the convolution and dense kernels, not biases or batch norm's γ and β.</summary>
    static bool Decays(Parameter parameter) => parameter.Name.EndsWith("/kernel", StringComparison.Ordinal);

    /// <summary>
    /// Keras's way round: the layers first, the input shape and class names from the data. The
    /// last layer must give one output per class of the data.
    /// </summary>
    public static Model Compile(string name, IEnumerable<Layer> layers, ImageDataset data, ComputeDevice device, Hyperparameters? hyperparameters = null)
    {
        var network = new Sequential(name, data.Train.Shape, layers);
        var model = Compile(network, device, hyperparameters, data.IsFashionMnist ? null : data.ClassNames);
        if (model.Classes != data.Classes)
        {
            model.Dispose();
            throw new ArgumentException($"model '{name}' gives {model.Classes} outputs but {data.Source} has {data.Classes} classes; end with Dense({data.Classes}).");
        }
        return model;
    }

    /// <summary>Builds the network on the device for batches of hyperparameters.BatchSize, with weights drawn from hyperparameters.Seed.</summary>
    /// <param name="classNames">The data's class names (an <see cref="ImageDataset"/>'s); Fashion-MNIST's for 10 classes when not given.</param>
    /// <param name="parallel">A data-parallel job (every rank compiles the same network): rank 0's weights are copied to every rank here.</param>
    public static Model Compile(Sequential network, ComputeDevice device, Hyperparameters? hyperparameters = null,
        IReadOnlyList<string>? classNames = null, DataParallel? parallel = null)
    {
        hyperparameters ??= new Hyperparameters();
        network.Build(device, hyperparameters.BatchSize, hyperparameters.Seed);
        var model = new Model(network, device, hyperparameters, classNames, parallel);
        model.parallel?.BroadcastFromRoot(network, model.TrainingBuffers);
        return model;
    }

    /// <summary>
    /// Trains for <paramref name="epochs"/> more epochs (Keras's fit): the one way to train.
    /// Without a validation set, the last Hyperparameters.ValidationSplit of the training images
    /// validate, as Keras's validation_split. The schedule spans every epoch trained so far and
    /// these. Observers see every epoch (progress, plots, checkpoints: see
    /// <see cref="CheckpointEachEpoch"/>); Hyperparameters.EarlyStoppingPatience stops early. In
    /// a data-parallel job every rank calls it with the same images and takes its share of each batch.
    /// </summary>
    public IReadOnlyList<EpochMetrics> Fit(ImageSet train, int epochs, ImageSet? validation = null, params ITrainingObserver[] observers)
    {
        CheckShape(train, nameof(train));
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs cannot be negative");
        int validationCount = validation is null ? (int)Math.Floor(train.Count * Hyperparameters.ValidationSplit) : 0;
        int trainCount = train.Count - validationCount;
        int batchSize = Hyperparameters.BatchSize;
        if (batchSize > trainCount)
            throw new ArgumentException($"batch size {batchSize} is larger than the {trainCount} training images.");
        Hyperparameters = Hyperparameters with { Epochs = History.Count + epochs };
        using var trainData = new DeviceDataset(Device, train);
        using var validationData = validation is null ? null : new DeviceDataset(Device, validation);
        using var trainFeeder = new BatchFeeder(Device, trainData, Enumerable.Range(0, trainCount).ToArray(), batchSize, parallel);
        using var validationFeeder = validationData is not null
            ? new BatchFeeder(Device, validationData, Enumerable.Range(0, validationData.Count).ToArray(), batchSize, parallel)
            : validationCount > 0 ? new BatchFeeder(Device, trainData, Enumerable.Range(trainCount, validationCount).ToArray(), batchSize, parallel) : null;
        using var trainer = new Trainer(Network, optimizer, loss, trainFeeder, validationFeeder, Hyperparameters, parallel, ema);
        trainer.History.AddRange(History);
        // History grows as each epoch ends, before the caller's observers (a checkpoint) see it.
        trainer.Observe(new EpochRecorder(History));
        foreach (var observer in observers) trainer.Observe(observer);
        trainer.Run();
        ema?.UseAverage();
        return History;
    }

    /// <summary>Whether no epoch is left to train: all of them ran, or early stopping ended the run.</summary>
    public bool IsComplete => Trainer.IsTrainingComplete(History, Hyperparameters);

    /// <summary>Whether early stopping ended training before Hyperparameters.Epochs.</summary>
    public bool StoppedEarly => History.Count < Hyperparameters.Epochs && IsComplete;

    /// <summary>Loss, accuracy and every prediction on a labelled set (inference mode).</summary>
    /// <param name="testTimeFlip">Score the mean of the logits of each image and its mirror (null: Hyperparameters.TestTimeFlip).</param>
    /// <param name="progress">Told (images scored, images in all) a few times a second, and once at the end (e.g. a ScoringProgress's Report).</param>
    public Evaluation Evaluate(ImageSet images, bool? testTimeFlip = null, Action<int, int>? progress = null)
    {
        CheckShape(images, nameof(images));
        using var data = new DeviceDataset(Device, images);
        using var feeder = new BatchFeeder(Device, data, Enumerable.Range(0, images.Count).ToArray(), Hyperparameters.BatchSize, parallel);
        return Evaluator.Evaluate(Averaged(), feeder, loss, parallel, testTimeFlip ?? Hyperparameters.TestTimeFlip, progress);
    }

    /// <summary>Class probabilities (softmax of the logits, or of the mean of an image's and its mirror's logits), images × classes, row after row.</summary>
    /// <param name="testTimeFlip">Average each image's logits with its mirror's (null: Hyperparameters.TestTimeFlip).</param>
    public float[] Predict(ImageSet images, bool? testTimeFlip = null)
    {
        CheckShape(images, nameof(images));
        var probabilities = new float[images.Count * Classes];
        var network = Averaged();
        using var data = new DeviceDataset(Device, images);
        using var feeder = new BatchFeeder(Device, data, Enumerable.Range(0, images.Count).ToArray(), Hyperparameters.BatchSize);
        for (int batch = 0; batch < feeder.Batches; batch++)
        {
            var logits = network.Forward(feeder.Gather(batch, Augmentation.None, 0), PassContext.Inference).ToArray();
            if (testTimeFlip ?? Hyperparameters.TestTimeFlip)
            {
                var mirrored = network.Forward(feeder.Gather(batch, Augmentation.Mirror, 0), PassContext.Inference).ToArray();
                for (int i = 0; i < logits.Length; i++) logits[i] = 0.5f * (logits[i] + mirrored[i]);
            }
            for (int row = 0; row < feeder.RowsOf(batch); row++)
                Softmax(logits.AsSpan(row * Classes, Classes), probabilities.AsSpan((batch * Hyperparameters.BatchSize + row) * Classes, Classes));
        }
        return probabilities;
    }

    /// <summary>
    /// Logits for inputs that are already tensors: float pixels (as the model trains on them,
    /// uint8 / 255), NHWC, image after image. Returns images × classes.
    /// </summary>
    public float[] PredictLogits(float[] inputs)
    {
        int perImage = Network.InputShape.Aggregate(1, (a, d) => a * d);
        if (inputs.Length == 0 || inputs.Length % perImage != 0)
            throw new ArgumentException($"inputs hold {inputs.Length} floats, not a whole number of {string.Join("x", Network.InputShape)} images.");
        int count = inputs.Length / perImage;
        var network = Averaged();
        var logits = new float[count * Classes];
        using var x = Tensor.Zeros(Device, [Hyperparameters.BatchSize, .. Network.InputShape]);
        for (int first = 0; first < count; first += Hyperparameters.BatchSize)
        {
            int rows = Math.Min(Hyperparameters.BatchSize, count - first);
            var batch = x.FirstRows(rows);
            batch.CopyFrom(inputs.AsSpan(first * perImage, rows * perImage));
            network.Forward(batch, PassContext.Inference).ToArray().CopyTo(logits, first * Classes);
        }
        return logits;
    }

    /// <summary>The most probable class of each image.</summary>
    public int[] PredictClasses(ImageSet images)
    {
        var probabilities = Predict(images);
        return [.. Enumerable.Range(0, images.Count).Select(i => ArgMax(probabilities.AsSpan(i * Classes, Classes)))];
    }

    /// <summary>
    /// Weights, optimizer state, hyperparameters, history, architecture and <see cref="Run"/> in one
    /// .gpucnn file (written atomically). With an EMA the file's model is the average, and the live
    /// weights are kept beside the optimizer's state, so that training resumes exactly.
    /// </summary>
    public void Save(string path) =>
        TrainingState.Save(path, Averaged(), optimizer, Hyperparameters, History, Run, OwnPictures ? ClassNames : null, ema);

    /// <summary>
    /// A model saved by <see cref="Save"/> or by `gpucnn train` (a file or a run folder), ready to
    /// predict or to train further from its optimizer state (a file saved without it, by
    /// ModelFile.SaveWeights, trains further from a fresh optimizer). In a data-parallel job every rank
    /// loads it and rank 0's copy is kept.
    /// </summary>
    public static Model Load(string path, ComputeDevice device, DataParallel? parallel = null)
    {
        string file = ModelFile.Resolve(path);
        var (header, arrays) = Checkpoint.Load(file);
        var network = ModelFile.Build(file, header, arrays, device, header.Hyperparameters.BatchSize);
        var model = new Model(network, device, header.Hyperparameters, header.ClassNames, parallel) { Run = header.Run };
        TrainingState.Restore(file, header, arrays, network, model.optimizer, model.ema);
        model.History.AddRange(header.History);
        model.parallel?.BroadcastFromRoot(network, model.TrainingBuffers);
        return model;
    }

    /// <summary>
    /// Fine-tuning's start: the weights of a saved model (a .gpucnn file or a run folder, as
    /// <see cref="Load"/> takes) copied in layer by layer where the layer names and weight shapes
    /// match, batch norm's moving statistics included (see <see cref="WeightLoading.LoadWeightsFrom"/>).
    /// Other layers get fresh initial weights from Hyperparameters.Seed, and so does the last layer
    /// with weights when the saved model was trained on other classes (another count, or other
    /// names). The optimizer is not touched: call it on a compiled model, before Fit. Records the
    /// file in <see cref="Run"/>. Returns one line per layer with weights: loaded, new or reinitialised.
    /// </summary>
    public IReadOnlyList<LayerLoad> LoadWeightsFrom(string path)
    {
        string file = ModelFile.Resolve(path);
        var (header, arrays) = Checkpoint.Load(file);
        using var source = ModelFile.Build(file, header, arrays, Device, 1);
        var report = LoadWeightsFrom(source, header.TrainedClassNames);
        Run = Run with { InitFrom = Path.GetFullPath(file) };
        return report;
    }

    /// <summary>The same from a model in memory (on any device).</summary>
    public IReadOnlyList<LayerLoad> LoadWeightsFrom(Model source) => LoadWeightsFrom(source.Network, source.ClassNames);

    IReadOnlyList<LayerLoad> LoadWeightsFrom(Sequential source, IReadOnlyList<string> sourceClasses)
    {
        string? newHead = sourceClasses.SequenceEqual(ClassNames) ? null
            : sourceClasses.Count != Classes ? $"a new head: {Classes} classes here, {sourceClasses.Count} in the source"
            : $"a new head: the classes here are {Listed(ClassNames)}, in the source {Listed(sourceClasses)}";
        return WeightLoading.LoadWeightsFrom(Network, source, Hyperparameters.Seed, newHead);
    }

    static string Listed(IReadOnlyList<string> names) => string.Join(", ", names.Take(3)) + (names.Count > 3 ? ", ..." : "");

    /// <summary>
    /// Keeps the layers up to and including <paramref name="upToLayer"/> (a name, as
    /// <see cref="ModelSummary"/> prints it) fixed while the rest train, as Keras's trainable = False
    /// on each; null trains every layer again. Frozen layers are neither updated nor given optimizer
    /// state, no backward pass runs through them, and their batch norm uses its moving statistics
    /// (inference mode) in training too. As Keras's compile after a change of trainable, it starts a
    /// fresh optimizer. Recorded in Hyperparameters.Freeze, so a saved model resumes frozen.
    /// ArgumentException, listing the layers, for a name the model does not have.
    /// </summary>
    public void Freeze(string? upToLayer)
    {
        Network.Freeze(upToLayer);
        Hyperparameters = Hyperparameters with { Freeze = upToLayer };
        optimizer.Dispose();
        optimizer = CreateOptimizer();
    }

    /// <summary>The optimizer's state buffers (Adam's moments, SGD's velocity): they cover the layers that are not frozen, and no others.</summary>
    public IReadOnlyList<(string Name, Tensor Value)> OptimizerState => optimizer.State;

    /// <summary>
    /// A picture file as this model takes it, through <see cref="PictureFiles.Decoder"/>: resized
    /// to its input as its training data was (a model trained on your own pictures; inverted only
    /// when <paramref name="inversion"/> is Always), or fitted into a light-on-dark 28×28 frame
    /// (Fashion-MNIST models; see <see cref="IPictureDecoder.Fit"/>). DataFileException when it cannot be decoded.
    /// </summary>
    public byte[] ReadPicture(string path, PictureInversion inversion = PictureInversion.Auto)
    {
        var decoder = PictureFiles.Require();
        int[] shape = Network.InputShape;
        if (OwnPictures)
        {
            var pixels = decoder.Read(path, shape[0], shape[1], shape[2]);
            if (inversion == PictureInversion.Always)
                for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(255 - pixels[i]);
            return pixels;
        }
        if (!shape.SequenceEqual(ModelZoo.ImageShape))
            throw new ArgumentException($"model '{Network.Name}' takes {string.Join("x", shape)} pictures; read them with PictureFiles.Decoder.Read");
        return decoder.Fit(path, inversion);
    }

    /// <summary>An image set of pictures read by <see cref="ReadPicture"/>, for Predict.</summary>
    public ImageSet Pictures(IReadOnlyList<byte[]> pictures)
    {
        int[] shape = Network.InputShape;
        return new ImageSet([.. pictures.SelectMany(p => p)], new byte[pictures.Count], shape[0], shape[1], shape[2]);
    }

    /// <summary>The model as an ONNX file (see <see cref="OnnxExport"/>).</summary>
    public void ExportOnnx(string path) => OnnxExport.Save(Averaged(), path);

    /// <summary>An observer that saves the model after every epoch, as Keras's ModelCheckpoint.</summary>
    public ITrainingObserver CheckpointEachEpoch(string path) => new EpochCheckpoint(this, path);

    sealed class EpochCheckpoint(Model model, string path) : ITrainingObserver
    {
        public void OnEpochEnd(EpochMetrics metrics) => model.Save(path);
    }

    sealed class EpochRecorder(List<EpochMetrics> history) : ITrainingObserver
    {
        public void OnEpochEnd(EpochMetrics metrics) => history.Add(metrics);
    }

    void CheckShape(ImageSet images, string what)
    {
        int[] expected = Network.InputShape;
        if (!images.Shape.SequenceEqual(expected))
            throw new ArgumentException($"{what}: images of {string.Join("x", images.Shape)}, but model '{Network.Name}' takes {string.Join("x", expected)}.");
    }

    static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += probabilities[i] = MathF.Exp(logits[i] - max);
        for (int i = 0; i < logits.Length; i++) probabilities[i] = (float)(probabilities[i] / sum);
    }

    static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    public void Dispose()
    {
        loss.Dispose();
        optimizer.Dispose();
        ema?.Dispose();
        Network.Dispose();
    }
}
