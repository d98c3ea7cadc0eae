using System.IO.Compression;
using System.Threading.Channels;
using Azure.Core;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>One loopback App Service host for the test assembly; each test adds its own apps in its own subscription.</summary>
public sealed class AppServiceHostFixture : IAsyncLifetime
{
    private AppServiceHost? _host;

    public AppServiceHost Host => _host ?? throw new InvalidOperationException("The host is not started.");

    public async Task InitializeAsync() => _host = await AppServiceHost.StartAsync(new AppServiceHostOptions { RetainFileContent = true });

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppServiceHostCollection : ICollectionFixture<AppServiceHostFixture>
{
    public const string Name = "App Service host";
}

/// <summary>Apps, packages and adapters wired to a host, with test-sized intervals.</summary>
internal static class TestWorld
{
    public static string NewSubscription() => Guid.NewGuid().ToString();

    public static void Configure(AppServiceOptions options, AppServiceHost host)
    {
        options.ArmEndpoint = host.ArmEndpoint;
        options.Transport = host.CreateTransport();
        options.RetryDelay = TimeSpan.FromMilliseconds(5);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
        if (options is KuduDeployerOptions kudu)
        {
            kudu.PollInterval = TimeSpan.FromMilliseconds(5);
            kudu.ConflictRetryDelay = TimeSpan.FromMilliseconds(5);
            kudu.DeploymentTimeout = TimeSpan.FromSeconds(60);
        }
    }

    public static KuduConnectorDeployer KuduDeployer(
        AppServiceHost host,
        Action<KuduDeployerOptions>? configure = null,
        ILogger<KuduConnectorDeployer>? logger = null,
        TokenCredential? credential = null,
        TimeProvider? time = null)
    {
        var options = new KuduDeployerOptions();
        Configure(options, host);
        configure?.Invoke(options);
        return new KuduConnectorDeployer(Options.Create(options), credential ?? host.Credential, time ?? TimeProvider.System, logger);
    }

    public static RunFromPackageConnectorDeployer RunFromPackageDeployer(AppServiceHost host, Action<RunFromPackageDeployerOptions>? configure = null)
    {
        var options = new RunFromPackageDeployerOptions();
        Configure(options, host);
        configure?.Invoke(options);
        return new RunFromPackageConnectorDeployer(Options.Create(options), host.Credential);
    }

    public static ConnectorTarget Target(AppServiceApp app) => new(app.Name, app.ResourceId);

    /// <summary>A connector-like zip, deterministic: a few files with content that depends on the build.</summary>
    public static ArtifactPackage Package(string build, Uri? location = null, int payloadBytes = 4096)
    {
        var files = PackageFiles(build, payloadBytes);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                var entry = zip.CreateEntry(path, CompressionLevel.Fastest);
                entry.LastWriteTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return ArtifactPackage.FromBytes(BuildNumber.Parse(build), buffer.ToArray(), location);
    }

    public static IReadOnlyDictionary<string, byte[]> PackageFiles(string build, int payloadBytes = 4096)
    {
        var payload = new byte[payloadBytes];
        new Random(build.GetHashCode(StringComparison.Ordinal)).NextBytes(payload);
        return new Dictionary<string, byte[]>
        {
            ["host.json"] = System.Text.Encoding.UTF8.GetBytes("{\"version\":\"2.0\"}"),
            ["build.txt"] = System.Text.Encoding.UTF8.GetBytes(build),
            ["bin/IoMT.Connector.dll"] = payload,
        };
    }

    /// <summary>How long a wait for an event may take before the test fails as hung: a guard only, never what a test asserts.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    /// <summary>Completes when <paramref name="condition"/> on the host's state holds (<see cref="AppServiceHost.WaitUntilAsync"/>). Nothing polls.</summary>
    public static Task WaitForHostAsync(this AppServiceHost host, Func<bool> condition, string what) =>
        host.WaitUntilAsync(condition, what, HangGuard);

    /// <summary>Completes when the host records a request that <paramref name="match"/> accepts (one recorded before the call counts too).</summary>
    public static Task WaitForRequestAsync(this AppServiceHost host, Func<RecordedRequest, bool> match, string what) =>
        host.WaitForHostAsync(() => host.RequestLog.Any(match), what);

    /// <summary>
    /// Collects the due times of the next <paramref name="count"/> timers created on <paramref name="time"/> (each a wait the
    /// code under test started on the clock), without moving the clock; fails when <paramref name="work"/> completes before
    /// they are all there (it did not wait) or the hang guard passes.
    /// </summary>
    public static async Task<IReadOnlyList<TimeSpan>> NextTimersAsync(this SignallingTimeProvider time, int count, Task work, string what)
    {
        var waits = new List<TimeSpan>();
        using var stop = new CancellationTokenSource();
        while (waits.Count < count)
        {
            var next = time.NextTimerAsync(stop.Token).AsTask();
            await Task.WhenAny(work, next).WaitAsync(HangGuard);
            if (!next.IsCompleted)
            {
                await stop.CancelAsync();
                Assert.Fail($"{what} completed after {waits.Count} of {count} waits on the clock.");
            }

            waits.Add(await next);
        }

        return waits;
    }

    /// <summary>
    /// Advances <paramref name="time"/> by <paramref name="step"/> each time the code under test starts a wait on it,
    /// until <paramref name="work"/> completes; returns the due times of the waits, in order.
    /// </summary>
    public static async Task<IReadOnlyList<TimeSpan>> AdvanceOnEveryWaitAsync(this SignallingTimeProvider time, Task work, TimeSpan step)
    {
        var waits = new List<TimeSpan>();
        using var stop = new CancellationTokenSource();
        while (true)
        {
            var next = time.NextTimerAsync(stop.Token).AsTask();
            var first = await Task.WhenAny(work, next).WaitAsync(HangGuard);
            if (first == work)
            {
                await stop.CancelAsync();
                return waits;
            }

            waits.Add(await next);
            time.Advance(step);
        }
    }
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer created on it (each <c>Task.Delay</c> on the clock), so a test
/// advances time exactly when the code under test waits, instead of advancing blindly and sleeping in between.
/// </summary>
internal sealed class SignallingTimeProvider() : FakeTimeProvider(DateTimeOffset.UtcNow)
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>The due time of the next timer created (or one created since the last call).</summary>
    public ValueTask<TimeSpan> NextTimerAsync(CancellationToken cancellationToken) => _timers.Reader.ReadAsync(cancellationToken);
}
