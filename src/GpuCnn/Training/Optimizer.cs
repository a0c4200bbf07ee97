using GpuCnn.Devices;
using GpuCnn.Tensors;

namespace GpuCnn.Training;

/// <summary>
/// Updates the model's flat parameter buffer from its flat gradient buffer in one launch per step.
/// Its state (moments, velocity, step count) is saved in checkpoints.
/// </summary>
public abstract class Optimizer : IDisposable
{
    protected ComputeDevice Device { get; }
    protected Tensor Parameters { get; }
    protected Tensor Gradients { get; }

    /// <summary>The learning rate of the next step (a schedule may change it between epochs).</summary>
    public float LearningRate { get; set; }
    public long Steps { get; protected set; }
    public abstract string Name { get; }

    protected Optimizer(ComputeDevice device, Tensor parameters, Tensor gradients, float learningRate)
    {
        Device = device;
        Parameters = parameters;
        Gradients = gradients;
        LearningRate = learningRate;
    }

    public abstract void Step();

    /// <summary>Named state buffers, for checkpoints.</summary>
    public abstract IReadOnlyList<(string Name, Tensor Value)> State { get; }

    public void Restore(long steps) => Steps = steps;

    /// <summary>The optimizers <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Names => ["adam", "sgd", "adamw", "sgd-nesterov"];

    /// <param name="weightDecay">λ of AdamW's decoupled decay or of SGD-Nesterov's L2 term (the others take none).</param>
    /// <param name="decayMask">1 for each element of the parameter buffer that decays, 0 elsewhere (null: every element).</param>
    public static Optimizer Create(string name, ComputeDevice device, Tensor parameters, Tensor gradients, float learningRate,
        float weightDecay = 0f, float[]? decayMask = null)
    {
        if (weightDecay != 0f && name is not ("adamw" or "sgd-nesterov"))
            throw new ArgumentException($"weight decay {weightDecay} needs adamw or sgd-nesterov; {name} takes none.");
        return name switch
        {
            "adam" => new Adam(device, parameters, gradients, learningRate),
            "sgd" => new SgdMomentum(device, parameters, gradients, learningRate),
            "adamw" => new Adam(device, parameters, gradients, learningRate, weightDecay, Mask(device, parameters, decayMask)),
            "sgd-nesterov" => new SgdMomentum(device, parameters, gradients, learningRate, weightDecay, Mask(device, parameters, decayMask)),
            _ => throw new ArgumentException($"Unknown optimizer '{name}'. Known: {string.Join(", ", Names)}."),
        };
    }

    static Tensor Mask(ComputeDevice device, Tensor parameters, float[]? mask) =>
        Tensor.Upload(device, mask ?? Enumerable.Repeat(1f, parameters.Length).ToArray(), [parameters.Length], "weight-decay mask");

    public abstract void Dispose();
}

/// <summary>
/// Adam with Keras's defaults: β1 0.9, β2 0.999, ε 1e-7. With a decay mask it is AdamW (Loshchilov
/// and Hutter): before Adam's step, p -= lr·λ·p on the masked weights, as PyTorch's AdamW.
/// </summary>
public sealed class Adam(ComputeDevice device, Tensor parameters, Tensor gradients, float learningRate,
    float weightDecay = 0f, Tensor? decayMask = null, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
    : Optimizer(device, parameters, gradients, learningRate)
{
    readonly Tensor firstMoment = Tensor.Zeros(device, parameters.Length);
    readonly Tensor secondMoment = Tensor.Zeros(device, parameters.Length);

    public override string Name => decayMask is null ? "adam" : "adamw";
    public override IReadOnlyList<(string Name, Tensor Value)> State => [($"{Name}/m", firstMoment), ($"{Name}/v", secondMoment)];

    public override void Step()
    {
        Steps++;
        double correction = Math.Sqrt(1 - Math.Pow(beta2, Steps)) / (1 - Math.Pow(beta1, Steps));
        float stepSize = (float)(LearningRate * correction);
        if (decayMask is null)
            Device.Kernels.AdamUpdate(Parameters.View, Gradients.View, firstMoment.View, secondMoment.View, stepSize, beta1, beta2, epsilon);
        else
            Device.Kernels.AdamWUpdate(Parameters.View, Gradients.View, firstMoment.View, secondMoment.View, decayMask.View, new Kernels.OptimizerKernels.AdamStep
            {
                StepSize = stepSize, Decay = LearningRate * weightDecay, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon,
            });
    }

    public override void Dispose()
    {
        firstMoment.Dispose();
        secondMoment.Dispose();
        decayMask?.Dispose();
    }
}

/// <summary>
/// SGD with momentum 0.9, Keras's formula (velocity = μ·velocity - lr·g; p += velocity). With a
/// decay mask it is PyTorch's SGD(nesterov=True) with L2 weight decay on the masked weights.
/// </summary>
public sealed class SgdMomentum(ComputeDevice device, Tensor parameters, Tensor gradients, float learningRate,
    float weightDecay = 0f, Tensor? decayMask = null, float momentum = 0.9f) : Optimizer(device, parameters, gradients, learningRate)
{
    readonly Tensor velocity = Tensor.Zeros(device, parameters.Length);

    public override string Name => decayMask is null ? "sgd" : "sgd-nesterov";
    public override IReadOnlyList<(string Name, Tensor Value)> State => [($"{Name}/velocity", velocity)];

    public override void Step()
    {
        Steps++;
        if (decayMask is null)
            Device.Kernels.SgdMomentumUpdate(Parameters.View, Gradients.View, velocity.View, LearningRate, momentum);
        else
            Device.Kernels.SgdNesterovUpdate(Parameters.View, Gradients.View, velocity.View, decayMask.View, LearningRate, momentum, weightDecay);
    }

    public override void Dispose()
    {
        velocity.Dispose();
        decayMask?.Dispose();
    }
}
