namespace GpuCnn.Tests;

/// <summary>
/// Plain C# references in double precision, written for clarity, not speed: what every kernel is
/// checked against, and the functions whose finite differences check every backward pass.
/// Tensors are NHWC; kernels are (KH, KW, Cin, Cout) as in Keras.
/// </summary>
public static class Reference
{
    public static double[] Gemm(double[] a, double[] b, int m, int n, int k, bool transposeA = false, bool transposeB = false)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = sum;
            }
        return c;
    }

    public static (int OutH, int OutW) ConvOutput(int h, int w, int kernel, int stride, int pad) =>
        ((h + 2 * pad - kernel) / stride + 1, (w + 2 * pad - kernel) / stride + 1);

    public static double[] Conv2d(double[] x, double[] weights, double[] bias, int batch, int h, int w, int cin, int cout,
        int kernel, int stride, int pad, bool relu)
    {
        var (oh, ow) = ConvOutput(h, w, kernel, stride, pad);
        var y = new double[batch * oh * ow * cout];
        for (int n = 0; n < batch; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int f = 0; f < cout; f++)
                    {
                        double sum = bias.Length > 0 ? bias[f] : 0;
                        for (int kh = 0; kh < kernel; kh++)
                            for (int kw = 0; kw < kernel; kw++)
                            {
                                int iy = oy * stride - pad + kh, ix = ox * stride - pad + kw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                for (int c = 0; c < cin; c++)
                                    sum += x[((n * h + iy) * w + ix) * cin + c] * weights[((kh * kernel + kw) * cin + c) * cout + f];
                            }
                        y[((n * oh + oy) * ow + ox) * cout + f] = relu ? Math.Max(0, sum) : sum;
                    }
        return y;
    }

    public static double[] Dense(double[] x, double[] weights, double[] bias, int batch, int inputs, int units, bool relu)
    {
        var y = Gemm(x, weights, batch, units, inputs);
        for (int i = 0; i < batch; i++)
            for (int j = 0; j < units; j++)
            {
                double v = y[i * units + j] + bias[j];
                y[i * units + j] = relu ? Math.Max(0, v) : v;
            }
        return y;
    }

    public static double[] MaxPool2D(double[] x, int batch, int h, int w, int c, int size)
    {
        int oh = h / size, ow = w / size;
        var y = new double[batch * oh * ow * c];
        for (int n = 0; n < batch; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        double best = double.NegativeInfinity;
                        for (int ky = 0; ky < size; ky++)
                            for (int kx = 0; kx < size; kx++)
                                best = Math.Max(best, x[((n * h + oy * size + ky) * w + ox * size + kx) * c + ch]);
                        y[((n * oh + oy) * ow + ox) * c + ch] = best;
                    }
        return y;
    }

    public static double[] GlobalAvgPool(double[] x, int batch, int pixels, int c)
    {
        var y = new double[batch * c];
        for (int n = 0; n < batch; n++)
            for (int p = 0; p < pixels; p++)
                for (int ch = 0; ch < c; ch++) y[n * c + ch] += x[(n * pixels + p) * c + ch] / pixels;
        return y;
    }

    /// <summary>Mean softmax cross-entropy of rows of logits against class labels.</summary>
    public static double SoftmaxCrossEntropy(double[] logits, int[] labels, int classes)
    {
        double total = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            double max = double.NegativeInfinity;
            for (int k = 0; k < classes; k++) max = Math.Max(max, logits[r * classes + k]);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.Exp(logits[r * classes + k] - max);
            total += Math.Log(sum) - (logits[r * classes + labels[r]] - max);
        }
        return total / labels.Length;
    }

    public static double[] Softmax(double[] logits, int row, int classes)
    {
        var p = new double[classes];
        double max = Enumerable.Range(0, classes).Max(k => logits[row * classes + k]);
        double sum = 0;
        for (int k = 0; k < classes; k++) sum += p[k] = Math.Exp(logits[row * classes + k] - max);
        for (int k = 0; k < classes; k++) p[k] /= sum;
        return p;
    }

    /// <summary>
    /// The weight average after one more step: decay·average + (1 - decay)·live, with the decay of
    /// step t (1 for the first) warmed up as min(decay, (1 + t) / (10 + t)) when asked.
    /// </summary>
    public static double[] EmaUpdate(double[] average, IReadOnlyList<float> live, double decay, long step = 0, bool warmup = false)
    {
        double d = warmup ? Math.Min(decay, (1.0 + step) / (10.0 + step)) : decay;
        return [.. average.Select((a, i) => d * a + (1 - d) * live[i])];
    }

    /// <summary>Batch norm in training mode (batch statistics over all but the last axis).</summary>
    public static double[] BatchNorm(double[] x, double[] gamma, double[] beta, int channels, double epsilon)
    {
        int rows = x.Length / channels;
        var y = new double[x.Length];
        for (int c = 0; c < channels; c++)
        {
            double mean = 0, variance = 0;
            for (int r = 0; r < rows; r++) mean += x[r * channels + c] / rows;
            for (int r = 0; r < rows; r++) variance += Math.Pow(x[r * channels + c] - mean, 2) / rows;
            for (int r = 0; r < rows; r++)
                y[r * channels + c] = gamma[c] * (x[r * channels + c] - mean) / Math.Sqrt(variance + epsilon) + beta[c];
        }
        return y;
    }
}
