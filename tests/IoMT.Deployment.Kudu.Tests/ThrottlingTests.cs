using IoMT.Deployment.Loopback;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>ARM token buckets on a host of its own, so the storm does not slow the other tests.</summary>
public sealed class ThrottlingTests
{
    [Fact]
    public async Task A_429_storm_completes_without_failure_and_every_Retry_After_is_honoured()
    {
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions
        {
            // 72 reads and 24 writes need about 2.7 s at these rates: far longer than the unthrottled run, so the buckets must throttle.
            ArmReadThrottle = new ThrottleSettings(Burst: 4, RefillPerSecond: 25, RetryAfterSeconds: 1),
            ArmWriteThrottle = new ThrottleSettings(Burst: 2, RefillPerSecond: 10, RetryAfterSeconds: 1),
        });
        var subscription = NewSubscription();
        var apps = Enumerable.Range(0, 24).Select(i => host.AddApp(subscription, "rg", $"storm-{i:D2}", settings: new Dictionary<string, string> { ["KEEP"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) })).ToList();
        apps[0].Faults.TooManyRequests = 2;
        // The buckets are not fair: with 16 callers retrying together after each Retry-After, one caller can lose
        // several rounds in a row on a loaded machine. Eight callers fit within a second's refill, and the retry
        // budget is sized so that starvation cannot fail the storm; every retry still waits for Retry-After.
        var deployer = KuduDeployer(host, o => o.MaxRetries = 50);
        var package = Package("100.1");

        await Parallel.ForEachAsync(apps, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (app, ct) =>
        {
            await deployer.DeployAsync(Target(app), package, ct);
            await deployer.SetProjectVersionAsync(Target(app), package.Build, ct);
            Assert.Equal("100.1", await deployer.GetProjectVersionAsync(Target(app), ct));
        });

        var log = host.RequestLog;
        Assert.True(log.Count(r => r.StatusCode == 429 && r.Route is not (AppServiceRoute.ZipDeploy or AppServiceRoute.DeploymentStatus)) > 2, "the buckets throttled");
        foreach (var app in apps)
        {
            Assert.Equal(package.Sha256, app.DeployedPackageSha256);
            Assert.Equal(app.Settings["KEEP"], apps.IndexOf(app).ToString(System.Globalization.CultureInfo.InvariantCulture));

            // Each app's calls are sequential: the call after a 429 must wait for Retry-After.
            var calls = log.Where(r => r.App == app.Name).OrderBy(r => r.At).ToList();
            for (var i = 0; i < calls.Count - 1; i++)
            {
                if (calls[i].StatusCode == 429)
                {
                    Assert.True(calls[i + 1].At - calls[i].At >= TimeSpan.FromSeconds(0.95), $"{app.Name}: a retry came {(calls[i + 1].At - calls[i].At).TotalMilliseconds} ms after a 429 with Retry-After: 1");
                }
            }
        }
    }
}
