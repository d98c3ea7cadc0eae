using IoMT.Deployment;
using IoMT.Deployment.Diagnostics;
using IoMT.Deployment.Local;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes IoMT.Deployment into a host.</summary>
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
        var options = services.AddOptions<RolloutOptions>().ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RolloutOptions>, RolloutOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DeploymentMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IRolloutPolicy, ParallelRolloutPolicy>();
        services.TryAddSingleton<IRolloutLock, InProcessRolloutLock>();
        services.TryAddSingleton<IRolloutEngine>(CreateEngine);
        services.TryAddTransient(sp => new DeliveryService(
            sp.GetService<IArtifactPublisher>() ?? throw Missing<IArtifactPublisher>(".AddLocalArtifactPublisher() or .AddBlobArtifactPublisher(…) (the delivery step's write side)"),
            sp.GetRequiredService<ILogger<DeliveryService>>()));
        return new IoMTDeploymentBuilder(services);
    }

    /// <summary>
    /// Adds the embedded local provider, the read side and the state: file-system artifact source, JSON-file version store,
    /// JSON-file connector inventory, directory deployer and a file-based rollout lock, all under one root folder.
    /// No Azure account or emulator needed. Add <see cref="AddLocalArtifactPublisher"/> for the write side.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the provider (root folder, limits).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddLocalProvider(this IIoMTDeploymentBuilder builder, Action<LocalProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<LocalProviderOptions>().ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<LocalLayout>(sp => new LocalLayout(sp.GetRequiredService<IOptions<LocalProviderOptions>>().Value));
        services.TryAddSingleton<FileSystemArtifactStore>();
        services.Replace(ServiceDescriptor.Singleton<IArtifactSource>(sp => sp.GetRequiredService<FileSystemArtifactStore>()));
        services.Replace(ServiceDescriptor.Singleton<IVersionStore, JsonFileVersionStore>());
        services.TryAddSingleton<LocalFleet>();
        services.Replace(ServiceDescriptor.Singleton<IConnectorInventory>(sp => sp.GetRequiredService<LocalFleet>()));
        services.Replace(ServiceDescriptor.Singleton<IConnectorDeployer, DirectoryConnectorDeployer>());
        services.Replace(ServiceDescriptor.Singleton<IRolloutLock, FileRolloutLock>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorHealthSignal, LocalHealthSignal>());
        return builder;
    }

    /// <summary>Adds the local provider's write side (the delivery step): publishing into the local artifact folder.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddLocalArtifactPublisher(this IIoMTDeploymentBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<LocalProviderOptions>().ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<LocalLayout>(sp => new LocalLayout(sp.GetRequiredService<IOptions<LocalProviderOptions>>().Value));
        builder.Services.TryAddSingleton<FileSystemArtifactStore>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IArtifactPublisher>(sp => sp.GetRequiredService<FileSystemArtifactStore>()));
        return builder;
    }

    /// <summary>Adds the hourly update worker as a hosted service.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the period and the initial delay.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddUpdateWorker(this IIoMTDeploymentBuilder builder, Action<UpdateWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<UpdateWorkerOptions>().ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UpdateWorker>());
        return builder;
    }

    /// <summary>Replaces the rollout policy (canary rings, waves, failure thresholds).</summary>
    /// <typeparam name="TPolicy">The policy type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder UseRolloutPolicy<TPolicy>(this IIoMTDeploymentBuilder builder)
        where TPolicy : class, IRolloutPolicy
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IRolloutPolicy, TPolicy>());
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
        sp.GetServices<IConnectorHealthSignal>());

    private static InvalidOperationException Missing<T>(string how) =>
        new($"IoMT.Deployment has no {typeof(T).Name} registered. Register one with {how} on the builder returned by AddIoMTDeployment().");

    private sealed class IoMTDeploymentBuilder(IServiceCollection services) : IIoMTDeploymentBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
