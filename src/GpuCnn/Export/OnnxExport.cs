using GpuCnn.IO;
using Google.Protobuf;
using GpuCnn.Export.Onnx;
using GpuCnn.Layers;
using GpuCnn.Models;

namespace GpuCnn.Export;

/// <summary>
/// Writes a built model as an ONNX file (opset 17) that ONNX Runtime and ML.NET run. The input
/// is GpuCnn's: a float tensor N×H×W×C (NHWC, pixels scaled to [0, 1]), named "input"; the
/// output is the logits, N×classes, named "logits" (apply a softmax for probabilities).
/// ONNX's convolutions work in NCHW, so the graph transposes the input once, keeps NCHW through
/// the convolutional part, and transposes back to NHWC before a Flatten, so that the dense
/// layers see the features in GpuCnn's order. Batch norm is exported in inference form (its
/// moving statistics); dropout, the identity at inference, is left out.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;

    /// <summary>Writes the model's ONNX file atomically.</summary>
    public static void Save(Sequential model, string path) => AtomicFile.Write(path, ToModel(model).ToByteArray());

    public static ModelProto ToModel(Sequential model)
    {
        var graph = new OnnxGraph(model.Name);
        graph.Input("input", model.InputShape);
        string x = "input";
        var layout = Layout.Nhwc;
        foreach (var layer in model.Layers) x = Add(graph, layer, x, ref layout);
        graph.Output(x, "logits", model.OutputShape);
        return new ModelProto
        {
            IrVersion = 8,
            ProducerName = "GpuCnn",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph.Proto,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
            DocString = $"GpuCnn model '{model.Name}': input N×{string.Join("×", model.InputShape)} NHWC floats in [0, 1], output logits.",
        };
    }

    enum Layout { Nhwc, Nchw, Flat }

    /// <summary>Adds one layer's nodes after tensor x; returns the name of its output.</summary>
    static string Add(OnnxGraph graph, Layer layer, string x, ref Layout layout)
    {
        string name = layer.Name;
        switch (layer)
        {
            case Conv2D conv:
                x = ToNchw(graph, x, ref layout);
                x = graph.Conv(name, x, conv.Parameters[0], conv.Parameters.Count > 1 ? conv.Parameters[1] : null,
                    conv.KernelSize, conv.Stride, conv.PaddingMode == Padding.Same ? conv.KernelSize / 2 : 0);
                return conv.ActivationKind == Activation.Relu ? graph.Node("Relu", name + "/relu", [x]) : x;
            case Dense dense:
                x = graph.Gemm(name, x, dense.Parameters[0], dense.Parameters[1]);
                return dense.ActivationKind == Activation.Relu ? graph.Node("Relu", name + "/relu", [x]) : x;
            case MaxPool2D pool:
                x = ToNchw(graph, x, ref layout);
                return graph.Node("MaxPool", name, [x], OnnxGraph.Ints("kernel_shape", pool.Size, pool.Size), OnnxGraph.Ints("strides", pool.Size, pool.Size));
            case BatchNormalization bn:
                if (layout == Layout.Nhwc) x = ToNchw(graph, x, ref layout);
                var p = bn.Parameters;
                return graph.Node("BatchNormalization", name,
                    [x, graph.Initializer(p[0]), graph.Initializer(p[1]), graph.Initializer(p[2]), graph.Initializer(p[3])],
                    OnnxGraph.Float("epsilon", bn.Epsilon));
            case ReLU:
                return graph.Node("Relu", name, [x]);
            case Dropout:
                return x;
            case Flatten:
                if (layout == Layout.Nchw) x = graph.Node("Transpose", name + "/to_nhwc", [x], OnnxGraph.Ints("perm", 0, 2, 3, 1));
                layout = Layout.Flat;
                return graph.Node("Flatten", name, [x], OnnxGraph.Int("axis", 1));
            case GlobalAvgPool2D:
                x = ToNchw(graph, x, ref layout);
                x = graph.Node("GlobalAveragePool", name, [x]);
                layout = Layout.Flat;
                return graph.Node("Flatten", name + "/flatten", [x], OnnxGraph.Int("axis", 1));
            case ResidualBlock block:
                x = ToNchw(graph, x, ref layout);
                string main = x, shortcut = x;
                foreach (var inner in block.MainPath) main = Add(graph, inner, main, ref layout);
                foreach (var inner in block.Shortcut) shortcut = Add(graph, inner, shortcut, ref layout);
                return graph.Node("Relu", name + "/relu", [graph.Node("Add", name + "/add", [main, shortcut])]);
            default:
                throw new NotSupportedException($"{name}: no ONNX export for layer kind {layer.Kind}.");
        }
    }

    static string ToNchw(OnnxGraph graph, string x, ref Layout layout)
    {
        if (layout == Layout.Nchw) return x;
        if (layout == Layout.Flat) throw new NotSupportedException("a spatial layer after Flatten");
        layout = Layout.Nchw;
        return graph.Node("Transpose", "input/to_nchw", [x], OnnxGraph.Ints("perm", 0, 3, 1, 2));
    }
}
