using IoMT.Deployment;
using IoMT.Deployment.Local;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes the embedded local provider: every seam on the file system under one root folder.</summary>
public static class LocalDeploymentBuilderExtensions
{
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
        builder.AddValidatedOptions(configure);

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
        builder.AddValidatedOptions<LocalProviderOptions>();
        builder.Services.TryAddSingleton<LocalLayout>(sp => new LocalLayout(sp.GetRequiredService<IOptions<LocalProviderOptions>>().Value));
        builder.Services.TryAddSingleton<FileSystemArtifactStore>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IArtifactPublisher>(sp => sp.GetRequiredService<FileSystemArtifactStore>()));
        return builder;
    }
}
