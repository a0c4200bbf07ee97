using ILGPU;

namespace GpuCnn.Kernels;

/// <summary>ReLU as its own pass, for layers whose GEMM cannot fuse it (after batch norm).</summary>
public static class ActivationKernels
{
    /// <summary>y = max(x, 0). In place is allowed. Items are groups of eight elements when vectorGroups is 1, else elements.</summary>
    public static void ReluForward(Index1D thread, ArrayView<float> input, ArrayView<float> output, int vectorGroups,
        WorkSplit split)
    {
        int end = split.End(thread);
        var input8 = input.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        for (int i = split.Start(thread); i < end; i++)
        {
            if (vectorGroups != 0)
            {
                Float8 v = input8[i];
                v.ClampAtZero();
                output8[i] = v;
            }
            else
            {
                float v = input[i];
                output[i] = v > 0f ? v : 0f;
            }
        }
    }

    /// <summary>
    /// dX = dY where y &gt; 0, else 0. Uses the output y, so a fused forward needs no copy of x. In
    /// place is allowed. Items are groups of eight elements (the split counts groups; the length
    /// is a multiple of 8 when vectorGroups is 1) or single elements.
    /// </summary>
    public static void ReluBackward(Index1D thread, ArrayView<float> output, ArrayView<float> outputGrad,
        ArrayView<float> inputGrad, int vectorGroups, WorkSplit split)
    {
        int end = split.End(thread);
        var output8 = output.Cast<Float8>();
        var outputGrad8 = outputGrad.Cast<Float8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        for (int i = split.Start(thread); i < end; i++)
        {
            if (vectorGroups != 0) inputGrad8[i] = Lanes.WherePositive(output8[i], outputGrad8[i]);
            else inputGrad[i] = output[i] > 0f ? outputGrad[i] : 0f;
        }
    }

    /// <summary>mean = (a + b) / 2: test-time augmentation's mean of an image's logits and its mirror's.</summary>
    public static void Average(Index1D thread, ArrayView<float> a, ArrayView<float> b, ArrayView<float> mean, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
            mean[i] = 0.5f * (a[i] + b[i]);
    }

    /// <summary>
    /// y = a + b, and with relu 1 then max(y, 0): the residual add, with the block's ReLU in the
    /// same pass over memory. Its backward pass passes dY to both branches unchanged. Items are
    /// groups of eight elements when vectorGroups is 1, else elements.
    /// </summary>
    public static void Add(Index1D thread, ArrayView<float> a, ArrayView<float> b, ArrayView<float> sum, int relu,
        int vectorGroups, WorkSplit split)
    {
        int end = split.End(thread);
        var a8 = a.Cast<Float8>();
        var b8 = b.Cast<Float8>();
        var sum8 = sum.Cast<Float8>();
        for (int i = split.Start(thread); i < end; i++)
        {
            if (vectorGroups != 0)
            {
                Float8 v = a8[i] + b8[i];
                if (relu != 0) v.ClampAtZero();
                sum8[i] = v;
            }
            else
            {
                float v = a[i] + b[i];
                sum[i] = relu == 0 || v > 0f ? v : 0f;
            }
        }
    }

    /// <summary>
    /// dx = (a + b) where y &gt; 0: a residual block's input gradient, the sum of its two
    /// branches', through the ReLU that ends the layer before it (y, that layer's output and the
    /// block's input), in one pass over memory where Add and ReluBackward make two
    /// (LayerFusion). The same values as those two. Items as in Add.
    /// </summary>
    public static void AddReluBackward(Index1D thread, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output,
        ArrayView<float> inputGrad, int vectorGroups, WorkSplit split)
    {
        int end = split.End(thread);
        var a8 = a.Cast<Float8>();
        var b8 = b.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        for (int i = split.Start(thread); i < end; i++)
        {
            if (vectorGroups != 0) inputGrad8[i] = Lanes.WherePositive(output8[i], a8[i] + b8[i]);
            else
            {
                float v = a[i] + b[i];
                inputGrad[i] = output[i] > 0f ? v : 0f;
            }
        }
    }
}
