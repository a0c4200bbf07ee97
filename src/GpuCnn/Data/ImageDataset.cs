namespace GpuCnn.Data;

/// <summary>
/// A labelled data set: training and test images of one shape, and the name of each class
/// (label i is ClassNames[i]). Fashion-MNIST is one; a folder of your own pictures is another.
/// </summary>
public sealed record ImageDataset(ImageSet Train, ImageSet Test, IReadOnlyList<string> ClassNames, string Source)
{
    public int Classes => ClassNames.Count;
}
