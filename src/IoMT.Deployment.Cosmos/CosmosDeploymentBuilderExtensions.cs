using IoMT.Deployment;
using IoMT.Deployment.Cosmos;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes the Cosmos DB version store and connector inventory into IoMT.Deployment.</summary>
public static class CosmosDeploymentBuilderExtensions
{
    /// <summary>
    /// Keeps the version state and the rollout history in Cosmos DB (<see cref="CosmosVersionStore"/>), replacing any
    /// <see cref="IVersionStore"/> registered before (such as the core's local JSON-file store). Options are validated at
    /// start-up. Calling it again only adds the configuration callback.
    /// </summary>
    /// <param name="builder">The builder from <c>services.AddIoMTDeployment()</c>.</param>
    /// <param name="configure">Sets the account, database and container (<see cref="CosmosVersionStoreOptions"/>).</param>
    /// <returns>The builder, for chaining.</returns>
    public static IIoMTDeploymentBuilder AddCosmosVersionStore(this IIoMTDeploymentBuilder builder, Action<CosmosVersionStoreOptions> configure)
    {
        return Add<CosmosVersionStoreOptions, IVersionStore, CosmosVersionStore>(
            builder,
            configure,
            static (client, options, sp) => new CosmosVersionStore(client, options, sp.GetService<ILogger<CosmosVersionStore>>()));
    }

    /// <summary>
    /// Reads the connector inventory from Cosmos DB (<see cref="CosmosConnectorInventory"/>), replacing any
    /// <see cref="IConnectorInventory"/> registered before (such as the core's local file inventory). Options are
    /// validated at start-up. Calling it again only adds the configuration callback.
    /// </summary>
    /// <param name="builder">The builder from <c>services.AddIoMTDeployment()</c>.</param>
    /// <param name="configure">Sets the account, database, container and query (<see cref="CosmosConnectorInventoryOptions"/>).</param>
    /// <returns>The builder, for chaining.</returns>
    public static IIoMTDeploymentBuilder AddCosmosConnectorInventory(this IIoMTDeploymentBuilder builder, Action<CosmosConnectorInventoryOptions> configure)
    {
        return Add<CosmosConnectorInventoryOptions, IConnectorInventory, CosmosConnectorInventory>(
            builder,
            configure,
            static (client, options, sp) => new CosmosConnectorInventory(client, options, sp.GetService<ILogger<CosmosConnectorInventory>>(), sp.GetService<TimeProvider>()));
    }

    private static IIoMTDeploymentBuilder Add<TOptions, TService, TAdapter>(
        IIoMTDeploymentBuilder builder,
        Action<TOptions> configure,
        Func<CosmosClient, TOptions, IServiceProvider, TAdapter> create)
        where TOptions : CosmosContainerOptions
        where TService : class
        where TAdapter : class, TService
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddValidatedOptions<TOptions, CosmosOptionsValidator<TOptions>>(configure);

        // Without an account key, the endpoint is reached with the builder's credential (UseCredential).
        builder.RequireCredential<TOptions>(RequiredBy<TOptions>(), static o => o.AccountEndpoint is not null && string.IsNullOrEmpty(o.AccountKey));
        builder.Services.TryAddSingleton<CosmosClientSource<TOptions>>();

        // Deliberately replaces the core's local default (and any earlier registration): one of each per host.
        return builder.ReplaceSeam<TService, TAdapter>(sp => create(
            sp.GetRequiredService<CosmosClientSource<TOptions>>().Client,
            sp.GetRequiredService<IOptions<TOptions>>().Value,
            sp));
    }

    internal static string RequiredBy<TOptions>() =>
        typeof(TOptions) == typeof(CosmosVersionStoreOptions) ? "AddCosmosVersionStore (AccountEndpoint without AccountKey)" : "AddCosmosConnectorInventory (AccountEndpoint without AccountKey)";
}
