using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.EndToEnd.Tests;

/// <summary>
/// The Azure composition with real health gates: Blob artifacts and lease, Cosmos state and inventory, Kudu deployer, the
/// Functions host status and Azure Monitor metrics signals and the subscription throttle, all on the real test servers.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class AzureGateTests(TestServersFixture servers)
{
    private const string ProjectVersion = ProjectVersionSetting.Name;

    [Fact]
    public async Task A_canary_whose_Functions_host_reports_Error_halts_the_rollout_and_is_rolled_back_automatically()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(4);
        var canary = apps[0];
        ServiceProvider Worker() => world.CreateWorker(Waves(canary), services => new Builder(services).AddFunctionsHostStatusSignal(o => Loopback(o, world.Host)).AddArmSubscriptionThrottle());

        var first = await TickUntilDoneAsync(Worker);
        Assert.Equal(RolloutStatus.Completed, first.Rollout!.Status);
        Assert.All(apps, a => Assert.Equal("1", a.Settings[ProjectVersion]));
        Assert.Contains(world.Host.RequestLog, r => r.Route == AppServiceRoute.HostStatus && r.App == canary.Name && r.StatusCode == 200);

        await world.DeliverAsync(delivery, "2");
        canary.Health.HostState = "Error";
        canary.Health.HostErrors = ["Microsoft.Azure.WebJobs.Script: Did not find functions with language [dotnet-isolated]."];
        var halted = await TickUntilDoneAsync(Worker);

        Assert.Equal(RolloutStatus.RolledBack, halted.Rollout!.Status);
        Assert.Contains("functions-host-status", halted.Rollout.StatusReason, StringComparison.Ordinal);
        Assert.Contains("Did not find functions", halted.Rollout.StatusReason, StringComparison.Ordinal);
        Assert.Equal("1", canary.Settings[ProjectVersion]);
        Assert.Equal(3, canary.ZipDeployCount);
        Assert.All(apps.Skip(1), a => Assert.Equal(("1", 1), (a.Settings[ProjectVersion], a.ZipDeployCount)));
        var stored = await world.ReadStoredStateAsync();
        Assert.Equal("1", stored.Current);
        Assert.Contains("2", stored.Invalidated);
    }

    [Fact]
    public async Task A_5xx_rise_on_the_canary_halts_the_wave_and_an_empty_series_pauses_it_for_no_data()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(3);
        var canary = apps[0];
        var now = DateTimeOffset.UtcNow;
        foreach (var app in apps)
        {
            app.Health.SetMetric("Requests", now.AddHours(-1), now.AddHours(1), 1000);
            app.Health.SetMetric("Http5xx", now.AddHours(-1), now.AddHours(1), 1);
        }

        // Build 1: the canary's series is empty: no data, so the rollout pauses instead of passing the gate.
        canary.Health.Faults.Enqueue(HealthFault.EmptySeries, 100);
        ServiceProvider Worker() => world.CreateWorker(Waves(canary), services => new Builder(services).AddAzureMonitorMetricsSignal(o =>
        {
            Loopback(o, world.Host);
            o.MinimumSample = 100;
        }));
        var paused = await TickUntilDoneAsync(Worker);
        Assert.Equal(RolloutStatus.Paused, paused.Rollout!.Status);
        Assert.Contains("without data", paused.Rollout.StatusReason, StringComparison.Ordinal);
        Assert.All(apps.Skip(1), a => Assert.False(a.Settings.ContainsKey(ProjectVersion)));

        // An operator accepts the wave; build 1 completes. Then build 2 raises the canary's 5xx: halted and rolled back.
        while (canary.Health.Faults.TryTake(out _))
        {
        }

        await Worker().GetRequiredService<IRolloutEngine>().CommandAsync(OperatorAction.Promote, "alice@contoso", "no traffic yet");
        Assert.Equal(RolloutStatus.Completed, (await TickUntilDoneAsync(Worker)).Rollout!.Status);
        await world.DeliverAsync(delivery, "2");
        canary.Health.SetMetric("Http5xx", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), 300);
        canary.Health.SetMetric("Http5xx", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(-1), 1);
        var halted = await TickUntilDoneAsync(Worker);

        Assert.Equal(RolloutStatus.RolledBack, halted.Rollout!.Status);
        Assert.Contains("azure-monitor-metrics", halted.Rollout.StatusReason, StringComparison.Ordinal);
        Assert.Equal("1", canary.Settings[ProjectVersion]);
        Assert.All(apps.Skip(1), a => Assert.Equal("1", a.Settings[ProjectVersion]));
    }

    private static Action<RolloutOptions> Waves(AppServiceApp canary) => o =>
    {
        o.Waves.Add(new WaveOptions { Name = "canary", Connectors = { canary.Name }, BakeTime = TimeSpan.Zero, MaxFailed = 0 });
        o.Waves.Add(new WaveOptions { Name = "rest", Percent = 100, RequireHealth = false });
    };

    private static void Loopback(Kudu.AppServiceOptions options, AppServiceHost host)
    {
        options.ArmEndpoint = host.ArmEndpoint;
        options.Transport = host.CreateTransport();
        options.RetryDelay = TimeSpan.FromMilliseconds(5);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
    }

    /// <summary>Ticks on fresh workers (as the hourly worker would, bake over) until the rollout stops being worked on.</summary>
    private static async Task<RolloutReport> TickUntilDoneAsync(Func<ServiceProvider> worker)
    {
        RolloutReport report = null!;
        for (var tick = 0; tick < 10; tick++)
        {
            report = await worker().GetRequiredService<IRolloutEngine>().UpdateAsync();
            if (report.Rollout is null || report.Rollout.Status is not (RolloutStatus.Running or RolloutStatus.Baking))
            {
                return report;
            }
        }

        return report;
    }

    private sealed class Builder(IServiceCollection services) : IIoMTDeploymentBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
