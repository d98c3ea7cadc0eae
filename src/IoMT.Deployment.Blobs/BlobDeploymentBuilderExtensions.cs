using Azure.Core;
using Azure.Storage.Blobs;
using IoMT.Deployment;
using IoMT.Deployment.Blobs;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Composes IoMT.Deployment over Azure Blob Storage: the artifact container's read side
/// (<see cref="AddBlobArtifacts(IIoMTDeploymentBuilder, Action{BlobArtifactOptions}?)"/>), its write side for the
/// delivery step (<see cref="AddBlobArtifactPublisher(IIoMTDeploymentBuilder, Action{BlobArtifactOptions}?)"/>) and the
/// rollout lock (<see cref="AddBlobRolloutLock(IIoMTDeploymentBuilder, Action{BlobRolloutLockOptions}?)"/>).
/// </summary>
/// <remarks>
/// Each method deliberately replaces whatever implementation of its seam was registered before (the core registers
/// local file-system defaults with TryAdd), so the blob adapter wins whatever the order of calls. A second call of the
/// same method adds its <c>configure</c> delegate but keeps the storage client of the first. A client for a service URI
/// uses the credential set once on the builder (<c>UseCredential</c>); one for a connection string is built here, at
/// composition. Options are validated at start
/// (<see cref="OptionsBuilderExtensions.ValidateOnStart{TOptions}(OptionsBuilder{TOptions})"/>) and when first resolved.
/// </remarks>
public static class BlobDeploymentBuilderExtensions
{
    /// <summary>Registers the blob artifact source (<see cref="IArtifactSource"/>, read only) over the <see cref="BlobServiceClient"/> registered in DI.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Configures the options (container name, page size).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifacts(this IIoMTDeploymentBuilder builder, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactSource(builder, FromRegisteredServiceClient(), configure);

    /// <summary>Registers the blob artifact source (<see cref="IArtifactSource"/>, read only) over a container client the host supplies (for example one registered in DI).</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="containerFactory">Gives the artifact container's client; its name wins over <see cref="BlobArtifactOptions.ContainerName"/>.</param>
    /// <param name="configure">Configures the options (page size).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifacts(this IIoMTDeploymentBuilder builder, Func<IServiceProvider, BlobContainerClient> containerFactory, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactSource(builder, FromContainerFactory(containerFactory), configure);

    /// <summary>Registers the blob artifact source (<see cref="IArtifactSource"/>, read only) for a storage account reached with the credential set by <see cref="IoMTDeploymentBuilderExtensions.UseCredential(IIoMTDeploymentBuilder, TokenCredential)"/>.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="serviceUri">The blob service endpoint, for example <c>https://account.blob.core.windows.net</c>.</param>
    /// <param name="clientOptions">The client options (retries, transport); <see langword="null"/> for the defaults.</param>
    /// <param name="configure">Configures the options (container name, page size).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifacts(this IIoMTDeploymentBuilder builder, Uri serviceUri, BlobClientOptions? clientOptions = null, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactSource(builder.RequireCredential<BlobArtifactOptions>("AddBlobArtifacts(serviceUri)"), FromServiceUri(serviceUri, clientOptions, "AddBlobArtifacts(serviceUri)"), configure);

    /// <summary>Registers the blob artifact source (<see cref="IArtifactSource"/>, read only) for a storage connection string, for emulators and local runs.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="connectionString">The storage connection string. It is never logged.</param>
    /// <param name="clientOptions">The client options (retries, transport); <see langword="null"/> for the defaults.</param>
    /// <param name="configure">Configures the options (container name, page size).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifacts(this IIoMTDeploymentBuilder builder, string connectionString, BlobClientOptions? clientOptions = null, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactSource(builder, FromServiceClient(CreateServiceClient(connectionString, clientOptions)), configure);

    /// <summary>Registers the blob artifact publisher (<see cref="IArtifactPublisher"/>, the delivery step's write side) over the <see cref="BlobServiceClient"/> registered in DI.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Configures the options (container name, block size, concurrency, container creation).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifactPublisher(this IIoMTDeploymentBuilder builder, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactPublisher(builder, FromRegisteredServiceClient(), configure);

    /// <summary>Registers the blob artifact publisher (<see cref="IArtifactPublisher"/>) over a container client the host supplies.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="containerFactory">Gives the artifact container's client; its name wins over <see cref="BlobArtifactOptions.ContainerName"/>.</param>
    /// <param name="configure">Configures the options (block size, concurrency, container creation).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifactPublisher(this IIoMTDeploymentBuilder builder, Func<IServiceProvider, BlobContainerClient> containerFactory, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactPublisher(builder, FromContainerFactory(containerFactory), configure);

    /// <summary>Registers the blob artifact publisher (<see cref="IArtifactPublisher"/>) for a storage account reached with the credential set by <see cref="IoMTDeploymentBuilderExtensions.UseCredential(IIoMTDeploymentBuilder, TokenCredential)"/>.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="serviceUri">The blob service endpoint.</param>
    /// <param name="clientOptions">The client options; <see langword="null"/> for the defaults.</param>
    /// <param name="configure">Configures the options (container name, block size, concurrency, container creation).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifactPublisher(this IIoMTDeploymentBuilder builder, Uri serviceUri, BlobClientOptions? clientOptions = null, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactPublisher(builder.RequireCredential<BlobArtifactOptions>("AddBlobArtifactPublisher(serviceUri)"), FromServiceUri(serviceUri, clientOptions, "AddBlobArtifactPublisher(serviceUri)"), configure);

    /// <summary>Registers the blob artifact publisher (<see cref="IArtifactPublisher"/>) for a storage connection string, for emulators and local runs.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="connectionString">The storage connection string. It is never logged.</param>
    /// <param name="clientOptions">The client options; <see langword="null"/> for the defaults.</param>
    /// <param name="configure">Configures the options (container name, block size, concurrency, container creation).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobArtifactPublisher(this IIoMTDeploymentBuilder builder, string connectionString, BlobClientOptions? clientOptions = null, Action<BlobArtifactOptions>? configure = null) =>
        AddArtifactPublisher(builder, FromServiceClient(CreateServiceClient(connectionString, clientOptions)), configure);

    /// <summary>Registers the blob-lease rollout lock (<see cref="IRolloutLock"/>) over the <see cref="BlobServiceClient"/> registered in DI.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Configures the options (lock container and blob, lease duration, renewal interval).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobRolloutLock(this IIoMTDeploymentBuilder builder, Action<BlobRolloutLockOptions>? configure = null) =>
        AddRolloutLock(builder, FromRegisteredServiceClient(), configure);

    /// <summary>Registers the blob-lease rollout lock (<see cref="IRolloutLock"/>) over a container client the host supplies.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="containerFactory">Gives the lock container's client; its name wins over <see cref="BlobRolloutLockOptions.ContainerName"/>.</param>
    /// <param name="configure">Configures the options (lock blob, lease duration, renewal interval).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobRolloutLock(this IIoMTDeploymentBuilder builder, Func<IServiceProvider, BlobContainerClient> containerFactory, Action<BlobRolloutLockOptions>? configure = null) =>
        AddRolloutLock(builder, FromContainerFactory(containerFactory), configure);

    /// <summary>Registers the blob-lease rollout lock (<see cref="IRolloutLock"/>) for a storage account reached with the credential set by <see cref="IoMTDeploymentBuilderExtensions.UseCredential(IIoMTDeploymentBuilder, TokenCredential)"/>.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="serviceUri">The blob service endpoint.</param>
    /// <param name="clientOptions">The client options; <see langword="null"/> for the defaults.</param>
    /// <param name="configure">Configures the options (lock container and blob, lease duration, renewal interval).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobRolloutLock(this IIoMTDeploymentBuilder builder, Uri serviceUri, BlobClientOptions? clientOptions = null, Action<BlobRolloutLockOptions>? configure = null) =>
        AddRolloutLock(builder.RequireCredential<BlobRolloutLockOptions>("AddBlobRolloutLock(serviceUri)"), FromServiceUri(serviceUri, clientOptions, "AddBlobRolloutLock(serviceUri)"), configure);

    /// <summary>Registers the blob-lease rollout lock (<see cref="IRolloutLock"/>) for a storage connection string, for emulators and local runs.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="connectionString">The storage connection string. It is never logged.</param>
    /// <param name="clientOptions">The client options; <see langword="null"/> for the defaults.</param>
    /// <param name="configure">Configures the options (lock container and blob, lease duration, renewal interval).</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddBlobRolloutLock(this IIoMTDeploymentBuilder builder, string connectionString, BlobClientOptions? clientOptions = null, Action<BlobRolloutLockOptions>? configure = null) =>
        AddRolloutLock(builder, FromServiceClient(CreateServiceClient(connectionString, clientOptions)), configure);

    private static IIoMTDeploymentBuilder AddArtifactSource(IIoMTDeploymentBuilder builder, Func<IServiceProvider, string, BlobContainerClient> container, Action<BlobArtifactOptions>? configure)
    {
        builder.AddValidatedOptions(configure);
        return builder.ReplaceSeam<IArtifactSource, BlobArtifactSource>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<BlobArtifactOptions>>().Value;
            return new BlobArtifactSource(container(sp, options.ContainerName), options, sp.GetService<ILogger<BlobArtifactSource>>());
        });
    }

    private static IIoMTDeploymentBuilder AddArtifactPublisher(IIoMTDeploymentBuilder builder, Func<IServiceProvider, string, BlobContainerClient> container, Action<BlobArtifactOptions>? configure)
    {
        builder.AddValidatedOptions(configure);
        return builder.ReplaceSeam<IArtifactPublisher, BlobArtifactPublisher>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<BlobArtifactOptions>>().Value;
            return new BlobArtifactPublisher(container(sp, options.ContainerName), options, sp.GetService<ILogger<BlobArtifactPublisher>>());
        });
    }

    private static IIoMTDeploymentBuilder AddRolloutLock(IIoMTDeploymentBuilder builder, Func<IServiceProvider, string, BlobContainerClient> container, Action<BlobRolloutLockOptions>? configure)
    {
        builder.AddValidatedOptions(configure);
        return builder.ReplaceSeam<IRolloutLock, BlobRolloutLock>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<BlobRolloutLockOptions>>().Value;
            return new BlobRolloutLock(container(sp, options.ContainerName), options, sp.GetService<TimeProvider>(), sp.GetService<ILogger<BlobRolloutLock>>());
        });
    }

    private static Func<IServiceProvider, string, BlobContainerClient> FromRegisteredServiceClient() =>
        (sp, containerName) => sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(containerName);

    private static Func<IServiceProvider, string, BlobContainerClient> FromServiceClient(BlobServiceClient client) =>
        (_, containerName) => client.GetBlobContainerClient(containerName);

    private static Func<IServiceProvider, string, BlobContainerClient> FromContainerFactory(Func<IServiceProvider, BlobContainerClient> containerFactory)
    {
        ArgumentNullException.ThrowIfNull(containerFactory);
        return (sp, _) => containerFactory(sp) ?? throw new InvalidOperationException("The container factory given to the IoMT.Deployment blob adapter returned null.");
    }

    private static Func<IServiceProvider, string, BlobContainerClient> FromServiceUri(Uri serviceUri, BlobClientOptions? clientOptions, string requiredBy)
    {
        ArgumentNullException.ThrowIfNull(serviceUri);
        return (sp, containerName) => new BlobServiceClient(serviceUri, sp.GetDeploymentCredential(requiredBy), clientOptions).GetBlobContainerClient(containerName);
    }

    private static BlobServiceClient CreateServiceClient(string connectionString, BlobClientOptions? clientOptions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        try
        {
            return new BlobServiceClient(connectionString, clientOptions);
        }
        catch (FormatException ex)
        {
            // The connection string holds the account key: the message names the problem, never the value.
            throw new ArgumentException("The storage connection string is not valid (AccountName/AccountKey or BlobEndpoint expected).", nameof(connectionString), ex);
        }
    }
}
