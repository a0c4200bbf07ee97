namespace GpuCnn.Data;

/// <summary>How a picture that is lighter than its background is treated when it is fitted Fashion-MNIST-style (`predict --invert`).</summary>
public enum PictureInversion
{
    /// <summary>Invert when the picture's border is light (mean above 127 of 255): a product photo on white.</summary>
    Auto,
    Always,
    Never,
}
