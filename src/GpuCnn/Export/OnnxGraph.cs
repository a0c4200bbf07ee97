using Google.Protobuf;
using GpuCnn.Export.Onnx;
using GpuCnn.Layers;

namespace GpuCnn.Export;

/// <summary>Builds an ONNX graph: nodes in order, weights as float initializers, typed inputs and outputs with a free batch dimension.</summary>
sealed class OnnxGraph(string name)
{
    public GraphProto Proto { get; } = new() { Name = name };

    public void Input(string tensor, int[] perSample) => Proto.Input.Add(Value(tensor, perSample));

    /// <summary>Names the last tensor: an Identity node gives it the output's name.</summary>
    public void Output(string tensor, string output, int[] perSample)
    {
        Proto.Node.Add(new NodeProto { OpType = "Identity", Name = output, Input = { tensor }, Output = { output } });
        Proto.Output.Add(Value(output, perSample));
    }

    static ValueInfoProto Value(string tensor, int[] perSample)
    {
        var shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" } } };
        foreach (int d in perSample) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = tensor,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Adds a node whose one output is named after it; returns that name.</summary>
    public string Node(string opType, string nodeName, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = nodeName, Output = { nodeName } };
        node.Input.Add(inputs);
        node.Attribute.Add(attributes);
        Proto.Node.Add(node);
        return nodeName;
    }

    /// <summary>A parameter's values as a float initializer named after it.</summary>
    public string Initializer(Parameter parameter) => Initializer(parameter.Name, parameter.Shape, parameter.Value.ToArray());

    public string Initializer(string tensor, int[] shape, float[] values)
    {
        var proto = new TensorProto { Name = tensor, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.Add(shape.Select(d => (long)d));
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); // ONNX raw data is little-endian, as .NET's floats here
        proto.RawData = ByteString.CopyFrom(bytes);
        Proto.Initializer.Add(proto);
        return tensor;
    }

    /// <summary>Conv over NCHW: GpuCnn's KH×KW×Cin×Cout kernel is stored as ONNX's Cout×Cin×KH×KW.</summary>
    public string Conv(string nodeName, string x, Parameter kernel, Parameter? bias, int size, int stride, int pad)
    {
        var w = kernel.Value.ToArray();
        int kh = kernel.Shape[0], kw = kernel.Shape[1], cin = kernel.Shape[2], cout = kernel.Shape[3];
        var oihw = new float[w.Length];
        for (int h = 0; h < kh; h++)
            for (int v = 0; v < kw; v++)
                for (int i = 0; i < cin; i++)
                    for (int o = 0; o < cout; o++)
                        oihw[((o * cin + i) * kh + h) * kw + v] = w[((h * kw + v) * cin + i) * cout + o];
        string[] inputs = bias is null
            ? [x, Initializer(kernel.Name, [cout, cin, kh, kw], oihw)]
            : [x, Initializer(kernel.Name, [cout, cin, kh, kw], oihw), Initializer(bias)];
        return Node("Conv", nodeName, inputs, Ints("kernel_shape", size, size), Ints("strides", stride, stride),
            Ints("pads", pad, pad, pad, pad));
    }

    /// <summary>y = x·W + b with W inputs×units, as Keras and GpuCnn store it.</summary>
    public string Gemm(string nodeName, string x, Parameter kernel, Parameter bias) =>
        Node("Gemm", nodeName, [x, Initializer(kernel), Initializer(bias)]);

    public static AttributeProto Ints(string attribute, params long[] values)
    {
        var a = new AttributeProto { Name = attribute, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return a;
    }

    public static AttributeProto Int(string attribute, long value) =>
        new() { Name = attribute, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string attribute, float value) =>
        new() { Name = attribute, Type = AttributeProto.Types.AttributeType.Float, F = value };
}
