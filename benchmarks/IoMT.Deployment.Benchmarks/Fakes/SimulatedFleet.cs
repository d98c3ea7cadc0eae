using System.Globalization;
using System.Runtime.CompilerServices;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// A fleet of simulated Function apps, the inventory and the deployer at once. Connector <c>i</c> is named
/// <c>c{i:D7}</c> and is generated as the inventory streams it, as a paged inventory would; the only per-connector state
/// is one byte (which build it runs). Reads and deploys take the configured latency (none: they complete synchronously).
/// </summary>
internal sealed class SimulatedFleet : IConnectorInventory, IConnectorDeployer
{
    private readonly byte[] _runs; // 0: the old build, 1: the new build
    private readonly string _oldVersion;
    private readonly string _newVersion;
    private readonly Task<string?> _oldTask;
    private readonly Task<string?> _newTask;
    private readonly PreciseDelay? _delay;
    private readonly TimeSpan _readLatency;
    private readonly TimeSpan _deployLatency;
    private long _reads;
    private long _deploys;
    private long _writes;

    public SimulatedFleet(int count, BuildNumber oldBuild, BuildNumber newBuild, PreciseDelay? delay = null, TimeSpan readLatency = default, TimeSpan deployLatency = default)
    {
        _runs = new byte[count];
        _oldVersion = oldBuild.ToString();
        _newVersion = newBuild.ToString();
        _oldTask = Task.FromResult<string?>(_oldVersion);
        _newTask = Task.FromResult<string?>(_newVersion);
        _delay = delay;
        _readLatency = readLatency;
        _deployLatency = deployLatency;
    }

    public int Count => _runs.Length;

    /// <summary>Gets or sets a clock that notes the update's phases (diagnostic runs only: it costs a timestamp per call).</summary>
    public PhaseClock? Phases { get; set; }

    public long Reads => Interlocked.Read(ref _reads);

    public long Deploys => Interlocked.Read(ref _deploys);

    public long Writes => Interlocked.Read(ref _writes);

    public static string Name(int index) => "c" + index.ToString("D7", CultureInfo.InvariantCulture);

    /// <summary>Gets the connectors as a list, for loops that do not stream (the baselines).</summary>
    public IReadOnlyList<ConnectorTarget> Targets(int count) => [.. Enumerable.Range(0, count).Select(i => new ConnectorTarget(Name(i)))];

    /// <summary>Counts the connectors that run the new build.</summary>
    public int OnNewBuild() => _runs.Count(r => r == 1);

#pragma warning disable CS1998 // Synchronous pages: the inventory costs nothing, so only the engine's work is measured.
    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
    {
        for (var i = 0; i < _runs.Length; i++)
        {
            yield return new ConnectorTarget(Name(i));
        }
    }

    public Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default) => Task.FromResult(true);

    public Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        Index(connector);
        Interlocked.Increment(ref _deploys);
        return _delay?.Delay(_deployLatency) ?? Task.CompletedTask;
    }

    public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
    {
        _runs[Index(connector)] = build.ToString() == _newVersion ? (byte)1 : (byte)0;
        Interlocked.Increment(ref _writes);
        Phases?.Write();
        return Task.CompletedTask;
    }

    public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        var index = Index(connector);
        Interlocked.Increment(ref _reads);
        Phases?.Read(verification: _runs[index] == 1);
        if (_delay is null || _readLatency <= TimeSpan.Zero)
        {
            return _runs[index] == 1 ? _newTask : _oldTask;
        }

        return ReadLaterAsync(index);
    }

    private async Task<string?> ReadLaterAsync(int index)
    {
        await _delay!.Delay(_readLatency).ConfigureAwait(false);
        return _runs[index] == 1 ? _newVersion : _oldVersion;
    }

    private int Index(ConnectorTarget connector)
    {
        var index = int.Parse(connector.Id.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
        return (uint)index < (uint)_runs.Length ? index : throw new ConnectorNotFoundException(connector.Id);
    }
}
