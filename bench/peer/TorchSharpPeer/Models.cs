using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// GpuCnn's seed and resnet20 models (src/GpuCnn/Models/ModelZoo.cs) in TorchSharp, layer for
/// layer as bench/peer/torch_peer.py has them in PyTorch.
/// </summary>
static class Models
{
    public static readonly string[] Names = ["seed", "resnet20"];

    public static nn.Module<Tensor, Tensor> Create(string name) => name switch
    {
        "seed" => Seed(),
        "resnet20" => ResNet20(),
        _ => throw new ArgumentException($"--model {name}: not a model ({string.Join(", ", Names)})"),
    };

    /// <summary>The Keras Fashion-MNIST CNN.</summary>
    static nn.Module<Tensor, Tensor> Seed() => nn.Sequential(
        ("conv2d", nn.Conv2d(1, 32, 3)), ("relu", nn.ReLU(inplace: true)), ("max_pooling2d", nn.MaxPool2d(2)),
        ("conv2d_1", nn.Conv2d(32, 64, 3)), ("relu_1", nn.ReLU(inplace: true)), ("max_pooling2d_1", nn.MaxPool2d(2)),
        ("dropout", nn.Dropout(0.25)), ("flatten", nn.Flatten()),
        ("dense", nn.Linear(1600, 128)), ("relu_2", nn.ReLU(inplace: true)), ("dropout_1", nn.Dropout(0.5)),
        ("dense_1", nn.Linear(128, 10)));

    /// <summary>
    /// He et al.'s ResNet-20 for 28×28 inputs: a 3×3 stem of 16 filters with BN and ReLU, stages of
    /// 3 blocks at 16, 32 and 64 filters (stride 2 at the first block of the later two), global
    /// average pooling, a 10-way dense layer.
    /// </summary>
    static nn.Module<Tensor, Tensor> ResNet20()
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv2d", nn.Conv2d(1, 16, 3, padding: 1, bias: false)), ("batch_normalization", BatchNorm(16)), ("re_lu", nn.ReLU(inplace: true)),
        };
        int channels = 16;
        foreach (int filters in new[] { 16, 32, 64 })
            for (int block = 0; block < 3; block++)
            {
                layers.Add(($"residual_block_{layers.Count - 3}", new ResidualBlock(channels, filters, block == 0 && filters > 16 ? 2 : 1)));
                channels = filters;
            }
        layers.Add(("global_average_pooling2d", nn.AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", nn.Flatten()));
        layers.Add(("dense", nn.Linear(64, 10)));
        return nn.Sequential(layers);
    }

    /// <summary>Keras's batch norm as GpuCnn has it: moving averages with momentum 0.99 (libtorch's 0.01), ε 1e-3.</summary>
    static BatchNorm2d BatchNorm(long channels) => nn.BatchNorm2d(channels, eps: 1e-3, momentum: 0.01);

    /// <summary>
    /// src/GpuCnn/Layers/ResidualBlock.cs: conv 3×3 (stride s) → BN → ReLU → conv 3×3 → BN, plus the
    /// shortcut (the identity, or a 1×1 convolution of stride s and BN where the shape changes), then
    /// ReLU. No convolution has a bias; padding "same" is k/2 on every side in both.
    /// </summary>
    sealed class ResidualBlock : nn.Module<Tensor, Tensor>
    {
        readonly Conv2d conv_a, conv_b;
        readonly BatchNorm2d bn_a, bn_b;
        readonly nn.Module<Tensor, Tensor>? projection;

        public ResidualBlock(long inChannels, long filters, long stride) : base("ResidualBlock")
        {
            conv_a = nn.Conv2d(inChannels, filters, 3, stride: stride, padding: 1, bias: false);
            bn_a = BatchNorm(filters);
            conv_b = nn.Conv2d(filters, filters, 3, padding: 1, bias: false);
            bn_b = BatchNorm(filters);
            if (stride != 1 || inChannels != filters)
                projection = nn.Sequential(("conv", nn.Conv2d(inChannels, filters, 1, stride: stride, bias: false)), ("bn", BatchNorm(filters)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = bn_b.forward(conv_b.forward(bn_a.forward(conv_a.forward(x)).relu_()));
            return y.add_(projection is null ? x : projection.forward(x)).relu_();
        }
    }

    /// <summary>Trainable parameters, and the batch norms' moving means and variances (Keras's non-trainable ones).</summary>
    public static (long Trainable, long Moving) ParameterCounts(nn.Module model) => (
        model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
        model.named_buffers().Where(b => b.name.EndsWith("running_mean") || b.name.EndsWith("running_var")).Sum(b => b.buffer.numel()));

    /// <summary>
    /// A 4-D tensor with the same shape in channels-last memory (strides H·W·C, 1, W·C, C), which
    /// libtorch's convolutions then keep. (TorchSharp has no memory_format conversion of its own.)
    /// The strides are set explicitly: with one channel the NHWC copy is already contiguous, and
    /// permuting it back would give NCHW strides again.
    /// </summary>
    public static Tensor ChannelsLast(Tensor t)
    {
        var nhwc = t.permute(0, 2, 3, 1).contiguous();
        long c = t.shape[1], h = t.shape[2], w = t.shape[3];
        return nhwc.as_strided(t.shape, [h * w * c, 1, w * c, c], nhwc.storage_offset());
    }

    public static bool IsChannelsLast(Tensor t) =>
        t.dim() == 4 && t.stride(1) == 1 && t.stride(3) == t.shape[1] && t.stride(2) == t.shape[1] * t.shape[3];

    /// <summary>Every convolution's weights in channels-last memory, as PyTorch's model.to(memory_format=channels_last).</summary>
    public static void ToChannelsLast(nn.Module model)
    {
        foreach (var conv in model.modules().OfType<Conv2d>())
            using (torch.no_grad())
                conv.weight = new Parameter(ChannelsLast(conv.weight!.detach()), requires_grad: true);
    }
}
