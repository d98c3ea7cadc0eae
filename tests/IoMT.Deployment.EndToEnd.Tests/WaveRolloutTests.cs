using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IoMT.Deployment.EndToEnd.Tests;

/// <summary>
/// Progressive rollouts on the production composition: the rollout record in the Cosmos DB state document under its
/// ETag, the Blob lease, Kudu deployments on the loopback host; a fresh worker resumes from the stored record.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class WaveRolloutTests(TestServersFixture servers)
{
    private const string ProjectVersion = ProjectVersionSetting.Name;

    [Fact]
    public async Task A_wave_rollout_resumes_on_a_fresh_worker_and_an_unhealthy_canary_rolls_back_only_its_wave()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(6);
        var canary = apps[0];
        var signal = new SwitchableSignal();

        ServiceProvider Worker() => world.CreateWorker(
            o =>
            {
                o.Waves.Add(new WaveOptions { Name = "canary", Connectors = { canary.Name }, BakeTime = TimeSpan.FromHours(1), MaxFailed = 0 });
                o.Waves.Add(new WaveOptions { Name = "rest", Percent = 100, RequireHealth = false });
            },
            services => services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorHealthSignal>(signal)));

        // Build 1: the canary first, baking for an hour until an operator promotes it, then the rest; each step on a
        // fresh worker, as after a restart, so every bit of progress comes from the stored record.
        var baking = await Worker().GetRequiredService<IRolloutEngine>().UpdateAsync();
        Assert.Equal(RolloutStatus.Baking, baking.Rollout!.Status);
        Assert.Equal("1", canary.Settings[ProjectVersion]);
        Assert.All(apps.Skip(1), a => Assert.False(a.Settings.ContainsKey(ProjectVersion)));
        Assert.Equal(RolloutStatus.Baking, (await Worker().GetRequiredService<IRolloutEngine>().UpdateAsync()).Rollout!.Status);
        var promoted = await Worker().GetRequiredService<IRolloutEngine>().CommandAsync(OperatorAction.Promote, "alice@contoso", "canary looks good");
        Assert.True(promoted.PromoteRequested);
        var report = await Worker().GetRequiredService<IRolloutEngine>().UpdateAsync();

        Assert.Equal(RolloutStatus.Completed, report.Rollout!.Status);
        Assert.Contains(report.Rollout.Commands, c => c is { Action: OperatorAction.Promote, Actor: "alice@contoso" });
        Assert.All(apps, a => Assert.Equal("1", a.Settings[ProjectVersion]));
        Assert.All(apps, a => Assert.Equal(1, a.ZipDeployCount));
        Assert.Equal("1", (await world.ReadStoredStateAsync()).Current);

        // Build 2: the canary reports unhealthy; the rollout halts and restores only the canary.
        await world.DeliverAsync(delivery, "2");
        signal.Unhealthy = canary.Name;
        var first = await Worker().GetRequiredService<IRolloutEngine>().UpdateAsync();
        Assert.Equal(RolloutStatus.Baking, first.Rollout!.Status);
        Assert.Equal("2", canary.Settings[ProjectVersion]);
        await Worker().GetRequiredService<IRolloutEngine>().CommandAsync(OperatorAction.Promote, "alice@contoso");

        var halted = await Worker().GetRequiredService<IRolloutEngine>().UpdateAsync();

        Assert.Equal(RolloutStatus.RolledBack, halted.Rollout!.Status);
        Assert.Equal(canary.Name, Assert.Single(halted.Connectors, c => c.Outcome == ConnectorOutcome.RolledBack).Connector.Id);
        Assert.Equal("1", canary.Settings[ProjectVersion]);
        Assert.All(apps.Skip(1), a => Assert.Equal(1, a.ZipDeployCount));
        var stored = await world.ReadStoredStateAsync();
        Assert.Equal("1", stored.Current);
        Assert.Null(stored.InFlight);
        Assert.Contains("2", stored.Invalidated);

        var next = await Worker().GetRequiredService<IRolloutEngine>().UpdateAsync();
        Assert.Equal(RolloutKind.Straggler, next.Kind);
        Assert.All(apps.Skip(1), a => Assert.Equal(1, a.ZipDeployCount));
    }

    private sealed class SwitchableSignal : IConnectorHealthSignal
    {
        public string? Unhealthy { get; set; }

        public string Name => "test";

        public ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(query.Connector.Id == Unhealthy ? new ConnectorHealth(HealthStatus.Unhealthy, "device messages failing") : ConnectorHealth.Healthy);
    }
}
