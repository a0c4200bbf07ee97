using GpuCnn.IO;
using System.Security.Cryptography;

namespace GpuCnn.Data;

/// <summary>Downloads the four official gzip IDX files and keeps only those whose MD5 matches the published one.</summary>
public static class OfficialMirror
{
    /// <summary>Downloads into folder; throws (and leaves nothing partial behind) on any failure.</summary>
    public static void Download(DataOptions options, string folder, Action<string> log)
    {
        using var http = new HttpClient { Timeout = options.DownloadTimeout };
        foreach (var (file, md5) in FashionMnist.OfficialFiles)
        {
            string target = Path.Combine(folder, file);
            if (File.Exists(target) && Md5Of(File.ReadAllBytes(target)) == md5) continue;
            string url = options.MirrorUrl.TrimEnd('/') + "/" + file;
            log($"downloading {url}");
            byte[] content = http.GetByteArrayAsync(url).GetAwaiter().GetResult();
            string actual = Md5Of(content);
            if (actual != md5)
                throw new DataFileException(url, $"checksum mismatch (MD5 {actual}, published {md5}); the download was discarded");
            AtomicFile.Write(target, content);
        }
    }

    public static string Md5Of(byte[] content) => Convert.ToHexStringLower(MD5.HashData(content));
}
