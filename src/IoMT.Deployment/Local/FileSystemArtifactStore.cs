using System.Runtime.CompilerServices;
using IoMT.Deployment.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Local;

/// <summary>
/// The local artifact store: a folder of <c>{build}.zip</c>, each with a <c>{build}.zip.sha256</c> sidecar recording its
/// SHA-256 at delivery. Both the read side and the write side.
/// </summary>
public sealed class FileSystemArtifactStore : IArtifactSource, IArtifactPublisher
{
    private const string HashSuffix = ".sha256";
    private readonly LocalLayout _layout;
    private readonly ILogger<FileSystemArtifactStore> _logger;

    /// <summary>Creates the store.</summary>
    /// <param name="layout">The local layout.</param>
    /// <param name="logger">The logger.</param>
    public FileSystemArtifactStore(LocalLayout layout, ILogger<FileSystemArtifactStore> logger)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(logger);
        _layout = layout;
        _logger = logger;
    }

    /// <summary>Gets the artifact folder.</summary>
    public string Folder => _layout.Artifacts;

    /// <inheritdoc/>
    public async IAsyncEnumerable<ArtifactInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(Folder))
        {
            throw new ArtifactStoreException($"The artifact folder '{Folder}' does not exist. Deliver a build first (iomt-deploy deliver).", isMissing: true);
        }

        foreach (var path in Directory.EnumerateFiles(Folder))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetFileName(path);
            // Sidecars, temporary files and the store's own lock file are not builds and not worth a warning.
            if (name.StartsWith('.') || name.EndsWith(HashSuffix, StringComparison.Ordinal) || name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                continue;
            }

            if (!BuildNumber.TryParsePackageFileName(name, out var build))
            {
                Log.IgnoredArtifactName(_logger, name);
                continue;
            }

            yield return await DescribeAsync(build, path, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(Folder))
        {
            throw new ArtifactStoreException($"The artifact folder '{Folder}' does not exist.", isMissing: true);
        }

        var path = PackagePath(build);
        if (!File.Exists(path))
        {
            throw new BuildNotFoundException(build, $"Build {build} is not in the artifact folder '{Folder}'.");
        }

        var info = await DescribeAsync(build, path, cancellationToken).ConfigureAwait(false);
        return new OpenedArtifact(info, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true));
    }

    /// <inheritdoc/>
    public async Task<PublishResult> PublishAsync(BuildNumber build, Stream package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (build.IsDefault)
        {
            throw new ArgumentException("A build number is required.", nameof(build));
        }

        using var buffer = new MemoryStream();
        await package.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var bytes = buffer.ToArray();
        if (bytes.LongLength > _layout.Options.MaxPackageBytes)
        {
            throw new InvalidPackageException(build, $"Package {build.PackageFileName} is {bytes.LongLength} bytes, more than the {_layout.Options.MaxPackageBytes} allowed (LocalProviderOptions.MaxPackageBytes).");
        }

        var sha256 = ContentHash.Sha256Hex(bytes);
        Directory.CreateDirectory(Folder);
        var path = PackagePath(build);

        // The lock makes check-then-write atomic across processes: two publishers of one build never both write.
        await using var gate = await LocalLayout.LockAsync(Path.Combine(Folder, ".publish.lock"), cancellationToken).ConfigureAwait(false);
        if (File.Exists(path))
        {
            var existing = await ReadRecordedHashAsync(path, cancellationToken).ConfigureAwait(false) ?? await HashFileAsync(path, cancellationToken).ConfigureAwait(false);
            return ContentHash.AreEqual(existing, sha256)
                ? new PublishResult(build, sha256, bytes.LongLength, PublishOutcome.AlreadyExists)
                : throw new ArtifactConflictException(build, existing, sha256);
        }

        // The hash first, then the package: a package never appears without its recorded hash.
        await LocalLayout.WriteAtomicAsync(path + HashSuffix, sha256, cancellationToken).ConfigureAwait(false);
        await LocalLayout.WriteAtomicAsync(path, bytes, cancellationToken).ConfigureAwait(false);
        return new PublishResult(build, sha256, bytes.LongLength, PublishOutcome.Created);
    }

    /// <inheritdoc/>
    public async Task<ArtifactInfo?> GetNewestAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(Folder))
        {
            return null;
        }

        ArtifactInfo? newest = null;
        await foreach (var artifact in ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (newest is null || artifact.Build > newest.Build)
            {
                newest = artifact;
            }
        }

        if (newest is { Sha256: null })
        {
            newest = newest with { Sha256 = await HashFileAsync(PackagePath(newest.Build), cancellationToken).ConfigureAwait(false) };
        }

        return newest;
    }

    private string PackagePath(BuildNumber build) => Path.Combine(Folder, build.PackageFileName);

    private static async Task<ArtifactInfo> DescribeAsync(BuildNumber build, string path, CancellationToken cancellationToken)
    {
        var file = new FileInfo(path);
        return new ArtifactInfo(
            build,
            file.Length,
            await ReadRecordedHashAsync(path, cancellationToken).ConfigureAwait(false),
            ETag: $"\"{file.LastWriteTimeUtc.Ticks:x}-{file.Length:x}\"",
            LastModified: file.LastWriteTimeUtc,
            Location: new Uri(path));
    }

    private static async Task<string?> ReadRecordedHashAsync(string packagePath, CancellationToken cancellationToken)
    {
        var sidecar = packagePath + HashSuffix;
        return File.Exists(sidecar) ? (await File.ReadAllTextAsync(sidecar, cancellationToken).ConfigureAwait(false)).Trim() : null;
    }

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await ContentHash.Sha256HexAsync(stream, cancellationToken).ConfigureAwait(false);
    }
}
