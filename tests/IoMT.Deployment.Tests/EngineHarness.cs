using IoMT.Deployment.Diagnostics;
using IoMT.Deployment.Local;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace IoMT.Deployment.Tests;

/// <summary>An engine over fakes, with a fake logger and the metrics it records.</summary>
internal sealed class EngineHarness : IDisposable
{
    public InMemoryArtifacts Artifacts { get; } = new();

    public InMemoryVersionStore Versions { get; } = new();

    public FakeFleet Fleet { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public FakeLogCollector Logs { get; } = new();

    public DeploymentMetrics Metrics { get; } = new();

    public RolloutOptions Options { get; } = new() { MaxParallelism = 4 };

    public IRolloutLock Lock { get; set; } = new InProcessRolloutLock();

    public IConnectorDeployer? Deployer { get; set; }

    public IConnectorInventory? Inventory { get; set; }

    public IArtifactSource? Source { get; set; }

    public IVersionStore? Store { get; set; }

    public FakeHealthSignal Health { get; } = new();

    public bool WithHealthSignal { get; set; } = true;

    /// <summary>The rollout policy; the default (parallel) policy over <see cref="Options"/> when not set.</summary>
    public IRolloutPolicy? Policy { get; set; }

    public RolloutEngine Engine() => new(
        Source ?? Artifacts,
        Store ?? Versions,
        Inventory ?? Fleet,
        Deployer ?? Fleet,
        Lock,
        Policy ?? new ParallelRolloutPolicy(Microsoft.Extensions.Options.Options.Create(Options)),
        Microsoft.Extensions.Options.Options.Create(Options),
        Time,
        Metrics,
        new FakeLogger<RolloutEngine>(Logs),
        WithHealthSignal ? [Health] : []);

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(Metrics.Meter, instrument);

    public IReadOnlyList<FakeLogRecord> LogsWithId(int id) => Logs.GetSnapshot().Where(r => r.Id.Id == id).ToList();

    public void Dispose() => Metrics.Dispose();
}
