using GpuCnn.Randomness;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>How a parameter starts: Keras's defaults are Glorot-uniform kernels and zero biases.</summary>
public enum Initializer
{
    Zeros,
    Ones,
    GlorotUniform,
    HeNormal,
}

/// <summary>
/// A learned (or, for batch norm's moving statistics, tracked) array of a layer. Its value and
/// gradient are views into the model's flat buffers, bound when the model is built, so one
/// optimizer launch updates every parameter.
/// </summary>
public sealed class Parameter(string name, int[] shape, Initializer initializer, int fanIn, int fanOut, bool trainable = true)
{
    public string Name { get; } = name;
    public int[] Shape { get; } = shape;
    public Initializer Initializer { get; } = initializer;
    public int FanIn { get; } = fanIn;
    public int FanOut { get; } = fanOut;
    public bool Trainable { get; } = trainable;
    public int Length => Shape.Aggregate(1, (a, b) => a * b);

    Tensor? value, gradient;

    public Tensor Value => value ?? throw new InvalidOperationException($"Parameter {Name} is not bound: build the model first.");

    /// <summary>Only trainable parameters have gradients.</summary>
    public Tensor Gradient => gradient ?? throw new InvalidOperationException($"Parameter {Name} has no gradient.");

    internal void Bind(Tensor value, Tensor? gradient)
    {
        this.value = value;
        this.gradient = gradient;
    }

    /// <summary>Initial values, drawn from <paramref name="random"/> (seeded by the model).</summary>
    public float[] InitialValues(SeededRandom random)
    {
        var values = new float[Length];
        switch (Initializer)
        {
            case Initializer.Ones:
                Array.Fill(values, 1f);
                break;
            case Initializer.GlorotUniform:
                float limit = MathF.Sqrt(6f / (FanIn + FanOut));
                for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * limit;
                break;
            case Initializer.HeNormal:
                double std = Math.Sqrt(2.0 / FanIn);
                for (int i = 0; i < values.Length; i++)
                {
                    // Box-Muller; Keras truncates at two standard deviations, so do we.
                    double z;
                    do z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                    while (Math.Abs(z) > 2);
                    values[i] = (float)(z * std);
                }
                break;
        }
        return values;
    }
}
