using GpuCnn.Layers;

namespace GpuCnn.Models;

/// <summary>
/// What a model needs on a device for batches of <see cref="BatchSize"/>, worked out from its
/// checked shapes alone (<see cref="Sequential.Plan"/>); nothing is allocated. An upper bound:
/// every layer is counted with its input gradient, and the optimizer as Adam.
/// </summary>
/// <param name="OutputShapes">Each layer's output shape, per image.</param>
/// <param name="ParameterBytes">Value, gradient and <see cref="Sequential.OptimizerFloats"/> of optimizer state per trainable parameter, and the tracked values, in 8-float aligned slots.</param>
/// <param name="ActivationBytes">Every buffer the layers own (outputs, gradients, im2col columns, transposed kernels, argmax) plus the input batch and the loss's buffers.</param>
/// <param name="WorkspaceBytes">The device's shared scratch: for each kind (split reductions, Winograd transforms) its largest user.</param>
/// <param name="Buffers">Every planned buffer, parameters and workspaces included, by layer.</param>
public sealed record ModelBudget(int BatchSize, IReadOnlyList<int[]> OutputShapes, long TrainableParameters, long TrackedParameters,
    long ParameterBytes, long ActivationBytes, long WorkspaceBytes, IReadOnlyList<PlannedBuffer> Buffers)
{
    public long TotalBytes => ParameterBytes + ActivationBytes + WorkspaceBytes;

    public int[] OutputShape => OutputShapes[^1];

    /// <summary>The layer whose own buffers and parameters take the most bytes (a residual block's inner layers count as the block's), and how many.</summary>
    public (string Layer, long Bytes) Largest => Buffers.Where(b => b.Use != BufferUse.Workspace && b.Layer.Length > 0).GroupBy(b => b.Layer.Split('/')[0])
        .Select(g => (g.Key, Sequential.Bytes(g.Sum(b => b.Use == BufferUse.Parameter ? b.Elements * (2 + Sequential.OptimizerFloats) : b.Elements))))
        .MaxBy(x => x.Item2);
}
