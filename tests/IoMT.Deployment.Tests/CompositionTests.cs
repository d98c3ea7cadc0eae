using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Tests;

public sealed class CompositionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "iomt-di-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void The_local_provider_composes_an_engine_and_the_worker_gets_no_publisher()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment().AddLocalProvider(o => o.Root = _root).AddUpdateWorker();
        services.AddIoMTDeployment(); // a second call is harmless
        using var provider = services.BuildServiceProvider();

        Assert.IsType<RolloutEngine>(provider.GetRequiredService<IRolloutEngine>());
        Assert.Null(provider.GetService<IArtifactPublisher>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<UpdateWorker>());
        Assert.Single(services, d => d.ServiceType == typeof(IRolloutEngine));
        var delivery = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<DeliveryService>());
        Assert.Contains("IArtifactPublisher", delivery.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_delivery_step_registers_the_publisher_explicitly()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment().AddLocalArtifactPublisher();
        services.Configure<LocalProviderOptions>(o => o.Root = _root);
        using var provider = services.BuildServiceProvider();

        var publisher = Assert.IsType<Local.FileSystemArtifactStore>(provider.GetRequiredService<IArtifactPublisher>());
        var delivered = await provider.GetRequiredService<DeliveryService>().DeliverAsync(BuildNumber.Parse("1"), TestPackages.ForBuild("1"));

        // The delivery service publishes through the registered publisher: the build lands in its folder.
        Assert.Equal(DeliveryOutcome.Delivered, delivered.Outcome);
        Assert.True(File.Exists(Path.Combine(publisher.Folder, BuildNumber.Parse("1").PackageFileName)));
    }

    [Fact]
    public void A_missing_seam_names_what_to_register()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment();
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IRolloutEngine>());

        Assert.Contains("IArtifactSource", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AddLocalProvider", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "MaxParallelism")]
    [InlineData(5000, "MaxParallelism")]
    public async Task Invalid_options_fail_the_host_at_start_naming_the_setting(int parallelism, string setting)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddIoMTDeployment(o => o.MaxParallelism = parallelism).AddLocalProvider(o => o.Root = _root);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(setting, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_worker_period_fails_the_host_at_start()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddIoMTDeployment().AddLocalProvider(o => o.Root = _root).AddUpdateWorker(o => o.Period = TimeSpan.Zero);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("IoMTDeployment:Worker:Period", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_custom_rollout_policy_replaces_the_default_and_the_engine_runs_through_it()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment().AddLocalProvider(o => o.Root = _root).AddLocalArtifactPublisher().UseRolloutPolicy<OneByOnePolicy>();
        using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<DeliveryService>().DeliverAsync(BuildNumber.Parse("1"), TestPackages.ForBuild("1"));
        await provider.GetRequiredService<Local.LocalFleet>().AddAsync(["a", "b", "c"]);

        var report = await provider.GetRequiredService<IRolloutEngine>().UpdateAsync();

        var policy = Assert.IsType<OneByOnePolicy>(provider.GetRequiredService<IRolloutPolicy>());
        Assert.Equal(["a", "b", "c"], policy.Stepped);
        Assert.True(report.Succeeded);
        Assert.Equal(3, report.Count(ConnectorOutcome.Updated));
    }

    private sealed class OneByOnePolicy : IRolloutPolicy
    {
        public List<string> Stepped { get; } = [];

        public async Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(IAsyncEnumerable<ConnectorTarget> connectors, Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep, CancellationToken cancellationToken = default)
        {
            var results = new List<ConnectorResult>();
            await foreach (var c in connectors.WithCancellation(cancellationToken))
            {
                Stepped.Add(c.Id);
                results.Add(await connectorStep(c, cancellationToken));
            }

            return results;
        }
    }
}
