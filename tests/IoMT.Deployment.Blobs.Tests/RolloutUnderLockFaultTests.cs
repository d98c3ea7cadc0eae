using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Storage.Blobs;
using IoMT.Deployment.Local;
using IoMT.Deployment.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using static IoMT.Deployment.Blobs.Tests.TestPackages;

namespace IoMT.Deployment.Blobs.Tests;

/// <summary>
/// The engine with the real blob lease on Azurite, reached through a relay the test can cut; every other seam is the
/// local provider, with a deployer that counts the connector operations it starts.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RolloutUnderLockFaultTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "iomt-lock-faults-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => AzuriteFixture.DeleteDirectory(_root);

    // Real time on purpose: what must not happen is a connector operation after the service let the lease expire, and
    // only the service's clock decides that. 15 s is the shortest lease Azure (and Azurite) grant; the test takes ~16 s.
    [Fact]
    public async Task A_lock_holder_cut_off_from_storage_starts_no_connector_operation_after_its_lease_expires_and_a_second_worker_takes_over()
    {
        var container = await azurite.CreateContainerAsync();
        await using var relay = TcpRelay.Start(azurite.ServiceUri.Port);
        var options = new BlobRolloutLockOptions { LeaseDuration = TimeSpan.FromSeconds(15), RenewInterval = TimeSpan.FromSeconds(4), SafetyMargin = TimeSpan.FromSeconds(5) };
        var deployer = new CountingDeployer(TimeSpan.FromMilliseconds(100));
        var lockLog = new LogProbe<BlobRolloutLock>();
        await using var provider = await ComposeAsync(AzuriteFixture.ThroughRelay(relay).GetBlobContainerClient(container.Name), options, deployer, lockLog, connectors: 2000);
        var engine = provider.GetRequiredService<IRolloutEngine>();

        // The service counts the lease from when it got the acquire, so it cannot expire before this moment + 15 s.
        var sentBefore = Stopwatch.GetTimestamp();
        var update = engine.UpdateAsync();
        await deployer.FirstStarted.WaitAsync(Wait);
        relay.Mode = RelayMode.Hold;
        Assert.Empty(lockLog.WithId(2202)); // No renewal got through before the cut: the acquire is the last confirmation.
        var expiresNoEarlierThan = Elapsed(sentBefore) + options.LeaseDuration;

        var lost = await Assert.ThrowsAsync<RolloutLockHeldException>(() => update.WaitAsync(Wait));
        Assert.Contains("rollout lock was lost", lost.Message, StringComparison.Ordinal);
        var stoppedAfter = Elapsed(sentBefore);
        var startedByFirst = deployer.Started.Count;

        Assert.True(stoppedAfter < expiresNoEarlierThan, $"The rollout stopped {stoppedAfter} after the acquire, not before the lease could expire ({expiresNoEarlierThan}).");
        Assert.True(startedByFirst > 0 && startedByFirst < 2 * 2000, "The rollout was cut off part way.");
        var last = deployer.Started.Max(s => s.At - sentBefore);
        Assert.True(TimeSpan.FromTicks(last * TimeSpan.TicksPerSecond / Stopwatch.Frequency) < expiresNoEarlierThan - options.SafetyMargin / 2, "No operation started near or after the lease's expiry.");

        // A second worker, with working storage, takes the lock once the lease has expired, not before.
        var second = new BlobRolloutLock(container, options);
        IRolloutLease? taken;
        while ((taken = await second.TryAcquireAsync("worker-2")) is null)
        {
            Assert.True(Elapsed(sentBefore) < expiresNoEarlierThan + Wait, "The second worker never got the lock.");
            await Task.Delay(TimeSpan.FromMilliseconds(250)); // Polling the lock, not waiting for correctness.
        }

        await using (taken)
        {
            Assert.True(Elapsed(sentBefore) >= expiresNoEarlierThan - TimeSpan.FromSeconds(1), "The lease was not taken over before it expired.");
            Assert.Equal(startedByFirst, deployer.Started.Count);
        }
    }

    [Fact]
    public async Task A_release_that_fails_after_a_successful_rollout_leaves_the_report_and_its_outcome_alone()
    {
        var container = await azurite.CreateContainerAsync();
        await using var relay = TcpRelay.Start(azurite.ServiceUri.Port);
        var clientOptions = AzuriteFixture.ClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var deployer = new CountingDeployer(TimeSpan.Zero);
        var lockLog = new LogProbe<BlobRolloutLock>();
        var options = new BlobRolloutLockOptions();
        await using var provider = await ComposeAsync(AzuriteFixture.ThroughRelay(relay, clientOptions).GetBlobContainerClient(container.Name), options, deployer, lockLog, connectors: 3);

        // Storage goes away once the last connector is done: the release at the end of the rollout cannot reach it.
        deployer.AfterVersionSet = count =>
        {
            if (count == 3)
            {
                relay.Mode = RelayMode.Reset;
            }
        };
        var report = await provider.GetRequiredService<IRolloutEngine>().UpdateAsync().WaitAsync(Wait);

        Assert.True(report.Succeeded);
        Assert.Equal(3, report.Connectors.Count(c => c.Outcome == ConnectorOutcome.Updated));
        var failed = Assert.Single(lockLog.WithId(2206));
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Equal(Build("1"), (await provider.GetRequiredService<IVersionStore>().ReadAsync()).State.Current);
    }

    private async Task<ServiceProvider> ComposeAsync(BlobContainerClient lockContainer, BlobRolloutLockOptions options, CountingDeployer deployer, LogProbe<BlobRolloutLock> lockLog, int connectors)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment(o => o.MaxParallelism = 4)
            .AddLocalProvider(o => o.Root = _root)
            .AddLocalArtifactPublisher()
            .AddBlobRolloutLock(
                _ => lockContainer,
                o =>
                {
                    o.LeaseDuration = options.LeaseDuration;
                    o.RenewInterval = options.RenewInterval;
                    o.SafetyMargin = options.SafetyMargin;
                });
        services.AddSingleton<ILogger<BlobRolloutLock>>(lockLog);
        services.Replace(ServiceDescriptor.Singleton<IConnectorDeployer>(deployer));
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<LocalFleet>().AddAsync(Enumerable.Range(1, connectors).Select(i => $"c{i:D5}"));
        await provider.GetRequiredService<IArtifactPublisher>().PublishAsync(Build("1"), new MemoryStream(Zip(1)));
        return provider;
    }

    private static TimeSpan Elapsed(long since) => Stopwatch.GetElapsedTime(since);


    /// <summary>
    /// A deployer that records every operation it starts (an operation asked for with a cancelled token starts nothing,
    /// as a real deployer's first request would not be sent) and takes <c>work</c> of real time per deployment.
    /// </summary>
    private sealed class CountingDeployer(TimeSpan work) : IConnectorDeployer
    {
        private readonly TaskCompletionSource _firstStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<string, string> _versions = new();
        private int _versionsSet;

        public ConcurrentQueue<(string Operation, string Connector, long At)> Started { get; } = new();

        public Task FirstStarted => _firstStarted.Task;

        public Action<int>? AfterVersionSet { get; set; }

        public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
        {
            Start("deploy", connector, cancellationToken);
            if (work > TimeSpan.Zero)
            {
                await Task.Delay(work, cancellationToken); // Simulated deployment time, so the rollout outlasts the lease.
            }
        }

        public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
        {
            Start("set", connector, cancellationToken);
            _versions[connector.Id] = build.ToString();
            AfterVersionSet?.Invoke(Interlocked.Increment(ref _versionsSet));
            return Task.CompletedTask;
        }

        public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
        {
            Start("get", connector, cancellationToken);
            return Task.FromResult(_versions.GetValueOrDefault(connector.Id));
        }

        private void Start(string operation, ConnectorTarget connector, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Started.Enqueue((operation, connector.Id, Stopwatch.GetTimestamp()));
            _firstStarted.TrySetResult();
        }
    }
}
