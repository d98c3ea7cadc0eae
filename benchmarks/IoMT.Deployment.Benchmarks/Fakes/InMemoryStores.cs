using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>An artifact container holding one build in memory.</summary>
internal sealed class InMemoryArtifactSource : IArtifactSource
{
    private readonly BuildNumber _build;
    private readonly byte[] _bytes;
    private readonly string _sha256;
    private int _opens;

    public InMemoryArtifactSource(BuildNumber build, byte[] bytes)
    {
        _build = build;
        _bytes = bytes;
        _sha256 = ContentHash.Sha256Hex(bytes);
    }

    public int Opens => Volatile.Read(ref _opens);

    public static byte[] SmallPackage(string build)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { ("host.json", "{\"version\":\"2.0\"}"), ("version.txt", build) })
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        return buffer.ToArray();
    }

#pragma warning disable CS1998
    public async IAsyncEnumerable<ArtifactInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
    {
        yield return new ArtifactInfo(_build, _bytes.Length, _sha256);
    }

    public Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken = default)
    {
        if (build != _build)
        {
            throw new BuildNotFoundException(build, $"Build {build} not found.");
        }

        Interlocked.Increment(ref _opens);
        return Task.FromResult(new OpenedArtifact(new ArtifactInfo(_build, _bytes.Length, _sha256), new MemoryStream(_bytes, writable: false)));
    }
}

/// <summary>A version store in memory with real ETag checks.</summary>
internal sealed class InMemoryVersionStore : IVersionStore
{
    private readonly Lock _gate = new();
    private readonly List<RolloutHistoryEntry> _history = [];
    private VersionState _state;
    private string? _etag;
    private int _version;

    public InMemoryVersionStore(VersionState initial)
    {
        _state = initial;
        _etag = "0";
    }

    public VersionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(new VersionStateEntry(_state, _etag));
        }
    }

    public Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (expectedETag != _etag)
            {
                throw new VersionStateConflictException("The version state changed since it was read.");
            }

            _state = state;
            _etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.FromResult(_etag);
        }
    }

    public Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _history.Insert(0, entry);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<RolloutHistoryEntry>>([.. _history.Take(maxCount)]);
        }
    }
}
