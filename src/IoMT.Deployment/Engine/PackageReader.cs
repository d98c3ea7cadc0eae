using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace IoMT.Deployment;

/// <summary>Reads a build's package once into memory, checking it against its recorded SHA-256 and that it is a zip.</summary>
public static class PackageReader
{
    /// <summary>Reads and checks an opened package.</summary>
    /// <param name="opened">The package as the artifact source opened it.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The package, ready for every deployer.</returns>
    /// <exception cref="InvalidPackageException">The bytes do not match the recorded SHA-256, or they are not a zip.</exception>
    public static async Task<ArtifactPackage> ReadAsync(OpenedArtifact opened, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(opened);
        var info = opened.Info;
        byte[] content;
        if (info.Size > 0 && info.Size <= Array.MaxLength)
        {
            content = new byte[info.Size];
            var read = await opened.Content.ReadAtLeastAsync(content, content.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            var extra = new byte[1];
            if (read != content.Length || await opened.Content.ReadAsync(extra, cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new InvalidPackageException(info.Build, $"Package {info.Build.PackageFileName} is {(read != content.Length ? "shorter" : "longer")} than the {info.Size} bytes the artifact store lists; it is refused.");
            }
        }
        else
        {
            using var buffer = new MemoryStream();
            await opened.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            content = buffer.ToArray();
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        if (info.Sha256 is { } expected && !ContentHash.AreEqual(expected, sha256))
        {
            throw new InvalidPackageException(info.Build, $"Package {info.Build.PackageFileName} does not match its recorded SHA-256 (recorded {expected}, read {sha256}); it is refused and no connector was touched.");
        }

        ZipPackage.EnsureZip(content, info.Build);
        return new ArtifactPackage(info.Build, content, sha256, info.Location);
    }
}

/// <summary>Checks that bytes are a readable zip package.</summary>
public static class ZipPackage
{
    /// <summary>Checks the zip's central directory and entry names (no absolute paths, no <c>..</c> segments).</summary>
    /// <param name="content">The package bytes.</param>
    /// <param name="build">The build, for the message.</param>
    /// <param name="readEntries">Also decompress every entry, which checks each entry's CRC.</param>
    /// <exception cref="InvalidPackageException">The bytes are not a valid zip package.</exception>
    public static void EnsureZip(ReadOnlyMemory<byte> content, BuildNumber? build = null, bool readEntries = false)
    {
        var what = build is { } b ? $"Package {b.PackageFileName}" : "The package";
        try
        {
            using var stream = MemoryMarshal.TryGetArray(content, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(content.ToArray(), writable: false);
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
            var entries = 0;
            foreach (var entry in zip.Entries)
            {
                entries++;
                if (!IsSafeEntryName(entry.FullName))
                {
                    throw new InvalidPackageException(build, $"{what} has an entry '{entry.FullName}' that escapes the package folder; it is refused.");
                }

                if (readEntries && !entry.FullName.EndsWith('/'))
                {
                    using var entryStream = entry.Open();
                    entryStream.CopyTo(Stream.Null);
                }
            }

            if (entries == 0)
            {
                throw new InvalidPackageException(build, $"{what} is an empty zip; it is refused.");
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidPackageException(build, $"{what} is not a valid zip file: {ex.Message}", ex);
        }
    }

    /// <summary>Tells whether a zip entry name stays inside the folder it is extracted to.</summary>
    /// <param name="name">The entry's full name.</param>
    /// <returns><see langword="true"/> when the name is relative and has no <c>..</c> segment.</returns>
    public static bool IsSafeEntryName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name[0] is '/' or '\\' || name.Contains(':', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var segment in name.Split('/', '\\'))
        {
            if (segment == "..")
            {
                return false;
            }
        }

        return true;
    }
}
