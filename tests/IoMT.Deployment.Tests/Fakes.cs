using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace IoMT.Deployment.Tests;

/// <summary>Zip packages for tests.</summary>
internal static class TestPackages
{
    public static byte[] Zip(params (string Name, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                var entry = zip.CreateEntry(name);
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        return buffer.ToArray();
    }

    public static byte[] ForBuild(string build) => Zip(("host.json", "{}"), ("version.txt", build));
}

/// <summary>An in-memory artifact container.</summary>
internal sealed class InMemoryArtifacts : IArtifactSource
{
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string? Sha)> _blobs = new();

    public bool Unreadable { get; set; }

    public int Opens;

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
        Interlocked.Increment(ref Opens);
        if (!_blobs.TryGetValue(build.PackageFileName, out var blob))
        {
            throw new BuildNotFoundException(build, $"Build {build} not found.");
        }

        return Task.FromResult(new OpenedArtifact(new ArtifactInfo(build, blob.Bytes.Length, blob.Sha), new MemoryStream(blob.Bytes)));
    }
}

/// <summary>An in-memory version store with real ETag semantics.</summary>
internal sealed class InMemoryVersionStore : IVersionStore
{
    private readonly Lock _gate = new();
    private VersionState _state = VersionState.Empty;
    private string? _etag;
    private readonly List<RolloutHistoryEntry> _history = [];
    public int Writes;

    /// <summary>Runs before a write is checked, to simulate another writer.</summary>
    public Action<InMemoryVersionStore>? BeforeWrite { get; set; }

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

    public IReadOnlyList<RolloutHistoryEntry> History
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    public void Set(VersionState state)
    {
        lock (_gate)
        {
            _state = state;
            _etag = Guid.NewGuid().ToString("N");
        }
    }

    public int Reads;

    /// <summary>Makes every read fail as an unreachable database would.</summary>
    public bool FailReads { get; set; }

    public Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Reads);
        if (FailReads)
        {
            return Task.FromException<VersionStateEntry>(new TimeoutException("the version store does not answer"));
        }

        lock (_gate)
        {
            return Task.FromResult(new VersionStateEntry(_state, _etag));
        }
    }

    /// <summary>Completes when a write makes the state satisfy the condition (at once when it already does).</summary>
    public Task WhenAsync(Func<VersionState, bool> condition)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_state))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((condition, signal));
        }

        return signal.Task;
    }

    private readonly List<(Func<VersionState, bool> Condition, TaskCompletionSource Signal)> _waiters = [];

    public Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var hook = BeforeWrite;
        BeforeWrite = null;
        hook?.Invoke(this);
        lock (_gate)
        {
            if (expectedETag != _etag)
            {
                throw new VersionStateConflictException("stale ETag");
            }

            _state = state;
            _etag = Guid.NewGuid().ToString("N");
            Writes++;
            foreach (var waiter in _waiters.Where(w => w.Condition(state)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Signal.TrySetResult();
            }

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

/// <summary>A fleet of fake function apps: the inventory and the deployer at once, with per-app behaviour.</summary>
internal sealed class FakeFleet : IConnectorInventory, IConnectorDeployer
{
    private readonly ConcurrentDictionary<string, FakeApp> _apps = new();
    private readonly List<string> _order = [];

    public sealed class FakeApp
    {
        public required string Id { get; init; }

        public ConcurrentDictionary<string, string> Settings { get; } = new();

        public string? DeployedSha { get; set; }

        public int Deployments;

        /// <summary>Fails the next N deployments.</summary>
        public int FailNextDeployments { get; set; }

        /// <summary>What the failed deployments are attributed to.</summary>
        public DeploymentFailureKind FailureKind { get; set; }

        /// <summary>Deletes the app when its deployment starts.</summary>
        public bool DeleteDuringDeploy { get; set; }

        /// <summary>Throws a generic error (not not-found) after deleting itself.</summary>
        public bool DeleteWithGenericError { get; set; }

        public bool Deleted { get; set; }

        public bool Canary { get; set; }

        /// <summary>Runs when a deployment to the app starts, before it is recorded as done.</summary>
        public Func<Task>? BeforeDeploy { get; set; }
    }

    public List<string> Calls { get; } = [];

    public FakeFleet Add(params string[] ids)
    {
        foreach (var id in ids)
        {
            _apps[id] = new FakeApp { Id = id };
            lock (_order)
            {
                _order.Add(id);
            }
        }

        return this;
    }

    public FakeApp this[string id] => _apps[id];

    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string[] ids;
        lock (_order)
        {
            ids = [.. _order];
        }

        foreach (var id in ids)
        {
            await Task.Yield();
            if (!_apps[id].Deleted)
            {
                yield return new ConnectorTarget(id) { Canary = _apps[id].Canary };
            }
        }
    }

    public Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_apps.TryGetValue(connectorId, out var app) && !app.Deleted);

    public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        var app = Require(connector);
        Record($"deploy {connector.Id} {package.Build}");
        if (app.BeforeDeploy is { } hook)
        {
            await hook();
        }

        if (app.DeleteDuringDeploy || app.DeleteWithGenericError)
        {
            app.Deleted = true;
            if (app.DeleteWithGenericError)
            {
                throw new HttpRequestException("connection reset");
            }

            throw new ConnectorNotFoundException(connector.Id);
        }

        if (app.FailNextDeployments > 0)
        {
            app.FailNextDeployments--;
            throw new DeploymentFailedException(connector.Id, $"Deployment to {connector.Id} reported status Failed.", kind: app.FailureKind);
        }

        Interlocked.Increment(ref app.Deployments);
        app.DeployedSha = package.Sha256;
    }

    public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
    {
        var app = Require(connector);
        Record($"set {connector.Id} {build}");
        app.Settings[ProjectVersionSetting.Name] = build.ToString();
        return Task.CompletedTask;
    }

    /// <summary>Every PROJECT_VERSION read, by connector id.</summary>
    public ConcurrentQueue<string> Reads { get; } = new();

    public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        Reads.Enqueue(connector.Id);
        var app = Require(connector);
        return Task.FromResult(app.Settings.TryGetValue(ProjectVersionSetting.Name, out var v) ? v : null);
    }

    private FakeApp Require(ConnectorTarget connector) =>
        _apps.TryGetValue(connector.Id, out var app) && !app.Deleted ? app : throw new ConnectorNotFoundException(connector.Id);

    private void Record(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }
    }
}

/// <summary>A health signal with a verdict per connector (healthy unless told otherwise), recording every query.</summary>
internal sealed class FakeHealthSignal : IConnectorHealthSignal
{
    private readonly ConcurrentDictionary<string, ConnectorHealth> _verdicts = new(StringComparer.Ordinal);

    public ConcurrentQueue<HealthQuery> Queries { get; } = new();

    public ConnectorHealth Default { get; set; } = ConnectorHealth.Healthy;

    public string Name => "fake";

    public void Set(string connectorId, ConnectorHealth health) => _verdicts[connectorId] = health;

    public ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        Queries.Enqueue(query);
        return ValueTask.FromResult(_verdicts.TryGetValue(query.Connector.Id, out var health) ? health : Default);
    }
}
