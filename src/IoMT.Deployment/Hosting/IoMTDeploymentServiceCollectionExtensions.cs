using IoMT.Deployment;
using IoMT.Deployment.Diagnostics;
using IoMT.Deployment.Local;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes IoMT.Deployment into a host: the engine and its defaults; the returned builder takes the adapters.</summary>
public static class IoMTDeploymentServiceCollectionExtensions
{
    /// <summary>
    /// Adds the rollout engine (<see cref="IRolloutEngine"/>), the default rollout policy, the in-process rollout lock,
    /// metrics and options. Add the seams with the returned builder: <c>.AddLocalProvider(…)</c> for the embedded local
    /// provider, or the adapters (<c>.AddBlobArtifacts(…)</c>, <c>.AddCosmosVersionStore(…)</c>, <c>.AddKuduDeployer(…)</c>, …).
    /// Calling it twice is harmless.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the rollout options.</param>
    /// <returns>The builder the adapters extend.</returns>
    public static IIoMTDeploymentBuilder AddIoMTDeployment(this IServiceCollection services, Action<RolloutOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new IoMTDeploymentBuilder(services);
        builder.AddValidatedOptions<RolloutOptions, RolloutOptionsValidator>(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DeploymentMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IRolloutPolicy, ParallelRolloutPolicy>();
        services.TryAddSingleton<IRolloutLock, InProcessRolloutLock>();
        services.TryAddSingleton<IRolloutEngine>(CreateEngine);
        services.TryAddTransient(sp => new DeliveryService(
            sp.GetService<IArtifactPublisher>() ?? throw Missing<IArtifactPublisher>(".AddLocalArtifactPublisher() or .AddBlobArtifactPublisher(…) (the delivery step's write side)"),
            sp.GetRequiredService<ILogger<DeliveryService>>()));
        return builder;
    }

    private static RolloutEngine CreateEngine(IServiceProvider sp) => new(
        sp.GetService<IArtifactSource>() ?? throw Missing<IArtifactSource>(".AddBlobArtifacts(…) or .AddLocalProvider(…)"),
        sp.GetService<IVersionStore>() ?? throw Missing<IVersionStore>(".AddCosmosVersionStore(…) or .AddLocalProvider(…)"),
        sp.GetService<IConnectorInventory>() ?? throw Missing<IConnectorInventory>(".AddCosmosConnectorInventory(…), .AddArmConnectorInventory(…) or .AddLocalProvider(…)"),
        sp.GetService<IConnectorDeployer>() ?? throw Missing<IConnectorDeployer>(".AddKuduDeployer(…), .AddRunFromPackageDeployer(…) or .AddLocalProvider(…)"),
        sp.GetRequiredService<IRolloutLock>(),
        sp.GetRequiredService<IRolloutPolicy>(),
        sp.GetRequiredService<IOptions<RolloutOptions>>(),
        sp.GetRequiredService<TimeProvider>(),
        sp.GetRequiredService<DeploymentMetrics>(),
        sp.GetRequiredService<ILogger<RolloutEngine>>(),
        sp.GetServices<IConnectorHealthSignal>(),
        sp.GetService<IDeploymentLimits>());

    private static InvalidOperationException Missing<T>(string how) =>
        new($"IoMT.Deployment has no {typeof(T).Name} registered. Register one with {how} on the builder returned by AddIoMTDeployment().");

    private sealed class IoMTDeploymentBuilder(IServiceCollection services) : IIoMTDeploymentBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
