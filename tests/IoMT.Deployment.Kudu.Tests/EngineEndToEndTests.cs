using Azure.Core;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>The core engine composed with the Kudu deployer and the ARM inventory, against the loopback host.</summary>
[Collection(AppServiceHostCollection.Name)]
public sealed class EngineEndToEndTests(AppServiceHostFixture fixture) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "iomt-kudu-e2e-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task An_update_reaches_every_connector_through_the_engine_and_a_deleted_one_is_skipped()
    {
        var host = fixture.Host;
        var subscription = NewSubscription();
        var tag = new Dictionary<string, string> { ["iomt-connector"] = "true" };
        var apps = Enumerable.Range(0, 5)
            .Select(i => host.AddApp(subscription, "rg-e2e", $"e2e-{i}-{Guid.NewGuid():N}"[..20], tags: tag, settings: new Dictionary<string, string> { ["KEEP"] = "yes" }))
            .ToList();
        host.AddApp(subscription, "rg-e2e", $"e2e-web-{Guid.NewGuid():N}"[..20], "app", tag);
        apps[4].Faults.DeleteDuringNextDeployment = true;

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIoMTDeployment(o => o.MaxParallelism = 4)
            .AddLocalProvider(o => o.Root = _root)
            .AddLocalArtifactPublisher()
            .UseCredential(host.Credential)
            .AddKuduDeployer(o => Configure(o, host))
            .AddArmConnectorInventory(o =>
            {
                Configure(o, host);
                o.SubscriptionId = subscription;
                o.RequiredTagName = "iomt-connector";
            });
        await using var provider = services.BuildServiceProvider();
        var package = Package("20240501.3");
        await provider.GetRequiredService<DeliveryService>().DeliverAsync(package.Build, package.Content.ToArray());
        var engine = provider.GetRequiredService<IRolloutEngine>();

        var report = await engine.UpdateAsync();

        Assert.True(report.Succeeded, string.Join("; ", report.Connectors.Select(c => $"{c.Connector.Id}: {c.Outcome} {c.ErrorMessage}")));
        Assert.Equal(package.Build, report.Target);
        Assert.Equal(4, report.Count(ConnectorOutcome.Updated));
        Assert.Equal(1, report.Count(ConnectorOutcome.Deleted));
        foreach (var app in apps.Take(4))
        {
            Assert.Equal("20240501.3", app.Settings[ProjectVersionSetting.Name]);
            Assert.Equal("yes", app.Settings["KEEP"]);
            Assert.Equal(package.Sha256, app.DeployedPackageSha256);
        }

        // A second run finds nothing to deploy.
        var again = await engine.UpdateAsync();
        Assert.Equal(4, again.Count(ConnectorOutcome.AlreadyCurrent));
        Assert.All(apps.Take(4), app => Assert.Equal(1, app.ZipDeployCount));
    }
}
