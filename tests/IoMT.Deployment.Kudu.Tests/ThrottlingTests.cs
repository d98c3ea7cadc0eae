using System.Globalization;
using Azure;
using IoMT.Deployment.Loopback;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>
/// ARM token buckets and <c>Retry-After</c>, on hosts of their own whose clock is the deployer's: every wait is on fake time,
/// so a 1 s or 30 s <c>Retry-After</c> costs no real second and the gaps read off the host's log are exact.
/// </summary>
public sealed class ThrottlingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_429_storm_completes_without_failure_and_every_Retry_After_is_honoured()
    {
        await using var time = new AutoAdvancingTimeProvider();
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions
        {
            // Small buckets on the shared clock: the clock only moves when someone waits, so 24 apps' reads and writes
            // arrive far faster than the buckets refill.
            ArmReadThrottle = new ThrottleSettings(Burst: 4, RefillPerSecond: 25, RetryAfterSeconds: 1),
            ArmWriteThrottle = new ThrottleSettings(Burst: 2, RefillPerSecond: 10, RetryAfterSeconds: 1),
            TimeProvider = time,
        });
        var subscription = NewSubscription();
        var apps = Enumerable.Range(0, 24).Select(i => host.AddApp(subscription, "rg", $"storm-{i:D2}", settings: new Dictionary<string, string> { ["KEEP"] = i.ToString(CultureInfo.InvariantCulture) })).ToList();
        apps[0].Faults.TooManyRequests = 2;

        // The buckets are not fair: a caller can lose several rounds in a row, so the retry budget is the most the
        // options allow. The computed delays (5-50 ms) are far below Retry-After: a retry that ignored it would come early.
        var deployer = KuduDeployer(host, o => o.MaxRetries = 50, time: time);
        var package = Package("100.1");

        await Parallel.ForEachAsync(apps, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (app, ct) =>
        {
            await deployer.DeployAsync(Target(app), package, ct);
            await deployer.SetProjectVersionAsync(Target(app), package.Build, ct);
            Assert.Equal("100.1", await deployer.GetProjectVersionAsync(Target(app), ct));
        }).WaitAsync(Timeout);

        var log = host.RequestLog;
        Assert.True(log.Count(r => r.StatusCode == 429 && r.Route is not (AppServiceRoute.ZipDeploy or AppServiceRoute.DeploymentStatus)) > 2, "the buckets throttled");
        var retries = 0;
        foreach (var app in apps)
        {
            Assert.Equal(package.Sha256, app.DeployedPackageSha256);
            Assert.Equal(app.Settings["KEEP"], apps.IndexOf(app).ToString(CultureInfo.InvariantCulture));

            // Each app's calls are sequential (in the order the host received them): the call after a 429 must come at
            // least Retry-After later on the clock.
            var calls = log.Where(r => r.App == app.Name).OrderBy(r => r.Sequence).ToList();
            for (var i = 0; i < calls.Count - 1; i++)
            {
                if (calls[i].StatusCode == 429)
                {
                    retries++;
                    Assert.True(calls[i + 1].At - calls[i].At >= TimeSpan.FromSeconds(1), $"{app.Name}: a retry came {(calls[i + 1].At - calls[i].At).TotalMilliseconds} ms after a 429 with Retry-After: 1\n{string.Join('\n', calls.Select(c => $"#{c.Sequence} {c.At:HH:mm:ss.fffffff} {c.Method} {c.Route} {c.StatusCode}"))}");
                }
            }
        }

        Assert.True(retries > 2, "requests were retried after a 429");
        Assert.True(time.Advanced >= TimeSpan.FromSeconds(1), "the retries waited on the deployer's clock");
    }

    [Fact]
    public async Task A_retry_waits_for_Retry_After_on_the_deployers_clock_and_not_a_moment_less()
    {
        var time = new SignallingTimeProvider();
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions { RetryAfterSeconds = 30, TimeProvider = time });
        var app = host.AddApp(NewSubscription(), "rg", "patient", settings: new Dictionary<string, string> { [ProjectVersionSetting.Name] = "7" });
        app.Faults.TooManyRequests = 1;
        var deployer = KuduDeployer(host, time: time);
        using var cancel = new CancellationTokenSource(Timeout);

        var read = deployer.GetProjectVersionAsync(Target(app), cancel.Token);

        // The 429 is answered, then the retry waits on the clock: a timer of Retry-After (the computed delay is 5-50 ms).
        var wait = await time.NextTimerAsync(cancel.Token);
        Assert.Equal(TimeSpan.FromSeconds(30), wait);
        Assert.False(read.IsCompleted, "the read waits for the retry");

        // The client can hold the answer before the host has logged it: wait for the log, then check it holds one request.
        await host.WaitUntilAsync(() => host.RequestLog.Any(r => r.App == app.Name), "the 429 is logged", Timeout);
        Assert.Single(host.RequestLog, r => r.App == app.Name);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(read.IsCompleted, "the retry is not sent before Retry-After");
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("7", await read.WaitAsync(cancel.Token));
        var calls = host.RequestLog.Where(r => r.App == app.Name).OrderBy(r => r.Sequence).ToList();
        Assert.Equal([429, 200], calls.Select(r => r.StatusCode));
        Assert.Equal(TimeSpan.FromSeconds(30), calls[1].At - calls[0].At);
    }

    [Fact]
    public async Task A_429_that_outlasts_the_retries_surfaces_after_each_wait_on_the_clock()
    {
        await using var time = new AutoAdvancingTimeProvider();
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions { RetryAfterSeconds = 2, TimeProvider = time });
        var app = host.AddApp(NewSubscription(), "rg", "throttled");
        app.Faults.TooManyRequests = 10;
        var deployer = KuduDeployer(host, o => o.MaxRetries = 3, time: time);

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => deployer.GetProjectVersionAsync(Target(app)).WaitAsync(Timeout));

        Assert.Equal(429, ex.Status);
        var calls = host.RequestLog.Where(r => r.App == app.Name).OrderBy(r => r.Sequence).ToList();
        Assert.Equal(4, calls.Count);
        Assert.All(calls.Zip(calls.Skip(1)), pair => Assert.True(pair.Second.At - pair.First.At >= TimeSpan.FromSeconds(2), "each retry waited for Retry-After"));
        Assert.Equal(6, app.Faults.TooManyRequests);
    }

    [Fact]
    public async Task A_refused_connection_is_retried_on_the_clock_and_every_try_is_reported()
    {
        await using var time = new AutoAdvancingTimeProvider();
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions { TimeProvider = time });
        var app = host.AddApp(NewSubscription(), "rg", "unreachable");

        // ARM on a port nothing listens on: every try fails in transport, and each retry waits on the deployer's clock.
        var deployer = KuduDeployer(host, o =>
        {
            o.ArmEndpoint = new Uri($"https://127.0.0.1:{IoMT.Deployment.Testing.FreePort.Next()}");
            o.MaxRetries = 3;
        }, time: time);

        var ex = await Assert.ThrowsAsync<AggregateException>(() => deployer.GetProjectVersionAsync(Target(app)).WaitAsync(Timeout));

        Assert.Equal(4, ex.InnerExceptions.Count);
        Assert.All(ex.InnerExceptions, e => Assert.Equal(0, Assert.IsType<RequestFailedException>(e).Status));
        Assert.StartsWith("Retry failed after 4 tries.", ex.Message, StringComparison.Ordinal);
        Assert.True(time.Advanced >= TimeSpan.FromMilliseconds(3 * 4), $"three waits of at least 4 ms (RetryDelay 5 ms less jitter) on the clock; it moved {time.Advanced.TotalMilliseconds} ms");
        Assert.Empty(host.RequestLog);
    }
}
