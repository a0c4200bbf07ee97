namespace GpuCnn.Layers;

/// <summary>
/// Neighbouring layers that share their passes over memory, paired when a chain of layers is
/// built (Sequential, and the paths inside ResidualBlock). Results are the same bit for bit.
/// - Max pooling after a ReLU (a ReLU layer, or Conv2D and Dense with relu) applies the ReLU's
///   mask in its own backward pass (<see cref="MaxPool2D.TakesReluBackward"/>).
///   Where the convolution before it has a short K (the first layer of an image), the two run
///   in one forward pass (<see cref="MaxPool2D.PoolsConvolution"/>): the convolution's output is
///   pooled where it is computed, never written.
/// - Batch normalization followed by a ReLU layer applies the ReLU itself: max(0, ·) in its
///   forward pass and the mask in its backward passes (unless a pooling after the ReLU applies
///   it), and the ReLU layer passes its input and gradient through (<see cref="ReLU.Absorbed"/>).
///   That saves a ReLU pass over the activations each way: every ResNet block has one.
/// - A residual block after a ReLU (a ReLU layer, another block, or Conv2D and Dense with relu)
///   applies that ReLU's mask as it adds its branches' input gradients
///   (<see cref="ResidualBlock.TakesReluBackward"/>): one pass over memory instead of two at
///   every block boundary.
/// </summary>
public static class LayerFusion
{
    public static void Pair(IReadOnlyList<Layer> chain)
    {
        for (int i = 0; i + 1 < chain.Count; i++)
            if (chain[i].EndsWithRelu && chain[i + 1] is MaxPool2D pool)
            {
                (pool.TakesReluBackward, chain[i].ReluBackwardTakenOver) = (true, true);
                if (chain[i] is Conv2D conv && conv.ForwardMaxPoolFits(pool.Geometry)) pool.PoolsConvolution = conv;
            }
            else if (chain[i].EndsWithRelu && chain[i + 1] is ResidualBlock block)
                (block.TakesReluBackward, chain[i].ReluBackwardTakenOver) = (true, true);
        for (int i = 0; i + 1 < chain.Count; i++)
            if (chain[i] is BatchNormalization norm && chain[i + 1] is ReLU relu)
            {
                (norm.TakesRelu, relu.Absorbed) = (true, true);
                norm.ReluBackwardTakenOver = relu.ReluBackwardTakenOver;
            }
    }
}
