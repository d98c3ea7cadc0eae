using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace IoMT.Deployment.Testing;

/// <summary>An in-memory artifact container.</summary>
public sealed class InMemoryArtifacts : IArtifactSource
{
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string? Sha)> _blobs = new();

    public bool Unreadable { get; set; }

    private int _opens;

    /// <summary>Gets how many times a package was opened.</summary>
    public int Opens => Volatile.Read(ref _opens);

    public InMemoryArtifacts Add(string build, byte[]? bytes = null, string? recordedSha = null)
    {
        bytes ??= TestPackages.ForBuild(build);
        _blobs[build + ".zip"] = (bytes, recordedSha ?? ContentHash.Sha256Hex(bytes));
        return this;
    }

    public InMemoryArtifacts AddRaw(string name, byte[] bytes)
    {
        _blobs[name] = (bytes, null);
        return this;
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (Unreadable)
        {
            throw new ArtifactStoreException("The container 'iomtconnector' cannot be read.");
        }

        foreach (var (name, blob) in _blobs)
        {
            if (BuildNumber.TryParsePackageFileName(name, out var build))
            {
                yield return new ArtifactInfo(build, blob.Bytes.Length, blob.Sha);
            }
        }
    }

    public Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _opens);
        if (!_blobs.TryGetValue(build.PackageFileName, out var blob))
        {
            throw new BuildNotFoundException(build, $"Build {build} not found.");
        }

        return Task.FromResult(new OpenedArtifact(new ArtifactInfo(build, blob.Bytes.Length, blob.Sha), new MemoryStream(blob.Bytes)));
    }
}
