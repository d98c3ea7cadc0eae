using System.IO.Compression;

namespace IoMT.Deployment;

/// <summary>
/// Packages a build output folder into a zip that is byte-identical for the same content: entries sorted by path,
/// fixed timestamps, Unix modes normalised to 0644 or 0755, no directory entries. A content change is therefore detectable by hash.
/// </summary>
public static class DeterministicPackager
{
    /// <summary>The timestamp written on every entry: 1980-01-01, the earliest a zip can hold.</summary>
    public static readonly DateTimeOffset EntryTimestamp = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Packages a folder into a stream.</summary>
    /// <param name="folder">The build output folder.</param>
    /// <param name="output">Where the zip is written.</param>
    /// <param name="cancellationToken">Cancels the packaging.</param>
    /// <returns>The number of files packaged.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="ArgumentException">The folder holds no file.</exception>
    public static async Task<int> PackageAsync(string folder, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(output);
        var root = Path.GetFullPath(folder);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The folder to package, '{folder}', does not exist.");
        }

        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
            .Select(path => (Path: path, Name: Path.GetRelativePath(root, path).Replace('\\', '/')))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw new ArgumentException($"The folder to package, '{folder}', holds no file.", nameof(folder));
        }

        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, name) in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
                entry.LastWriteTime = EntryTimestamp;
                entry.ExternalAttributes = UnixMode(path) << 16;
                var source = File.OpenRead(path);
                await using (source.ConfigureAwait(false))
                {
                    var target = entry.Open();
                    await using (target.ConfigureAwait(false))
                    {
                        await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        return files.Count;
    }

    /// <summary>
    /// The Unix mode recorded for a file: 0755 when any execute bit is set (native binaries, scripts), else 0644.
    /// Normalised so that umask differences between build machines do not change the bytes.
    /// </summary>
    private static int UnixMode(string path)
    {
        const int RegularFile = 0x8000;
        if (OperatingSystem.IsWindows())
        {
            return RegularFile | 0x1A4; // 0644
        }

        var mode = File.GetUnixFileMode(path);
        var executable = (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        return RegularFile | (executable ? 0x1ED : 0x1A4); // 0755 : 0644
    }

    /// <summary>Packages a folder into bytes.</summary>
    /// <param name="folder">The build output folder.</param>
    /// <param name="cancellationToken">Cancels the packaging.</param>
    /// <returns>The zip bytes.</returns>
    public static async Task<byte[]> PackageAsync(string folder, CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await PackageAsync(folder, buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
