using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// The engine composed the way a host composes it (<c>AddIoMTDeployment</c>) over in-memory seams: one delivered build
/// newer than the fleet's current one, so an update deploys every connector.
/// </summary>
internal sealed class SimulatedDeployment : IAsyncDisposable
{
    public static readonly BuildNumber OldBuild = BuildNumber.Parse("20250101.1");
    public static readonly BuildNumber NewBuild = BuildNumber.Parse("20250102.1");

    private readonly ServiceProvider _services;

    public SimulatedDeployment(SimulatedFleet fleet, int maxParallelism, NoOpSinkProvider? sink = null)
    {
        Fleet = fleet;
        Sink = sink ?? new NoOpSinkProvider();
        Artifacts = new InMemoryArtifacts().Add(NewBuild.ToString());
        Versions = new InMemoryVersionStore(VersionState.Empty with { Current = OldBuild });
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.ClearProviders().AddProvider(Sink).SetMinimumLevel(LogLevel.Information));
        services.AddSingleton<IArtifactSource>(Artifacts);
        services.AddSingleton<IVersionStore>(Versions);
        services.AddSingleton<IConnectorInventory>(fleet);
        services.AddSingleton<IConnectorDeployer>(fleet);
        services.AddIoMTDeployment(options => options.MaxParallelism = maxParallelism);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        Engine = _services.GetRequiredService<IRolloutEngine>();
    }

    public SimulatedFleet Fleet { get; }

    public NoOpSinkProvider Sink { get; }

    public InMemoryArtifacts Artifacts { get; }

    public InMemoryVersionStore Versions { get; }

    public IRolloutEngine Engine { get; }

    /// <summary>Runs an update and checks it did what it should, so a fast run that did nothing can never pass.</summary>
    public async Task<RolloutReport> UpdateAsync()
    {
        var report = await Engine.UpdateAsync().ConfigureAwait(false);
        var updated = report.Count(ConnectorOutcome.Updated);
        if (!report.Succeeded || updated != Fleet.Count || Fleet.OnNewBuild() != Fleet.Count || Versions.State.Current != NewBuild)
        {
            throw new InvalidOperationException($"The simulated update did not do its work: succeeded {report.Succeeded}, {updated} of {Fleet.Count} updated, current {Versions.State.Current}.");
        }

        return report;
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
