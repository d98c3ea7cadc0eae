using Azure.Core;
using Azure.Identity;
using IoMT.Deployment;
using IoMT.Deployment.Kudu;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes the App Service adapters: the Kudu and Run-From-Package deployers and the ARM connector inventory.</summary>
/// <remarks>
/// Each method deliberately replaces the <see cref="IConnectorDeployer"/> or <see cref="IConnectorInventory"/> registered
/// before it (the core's local defaults); calling it twice registers it once. The <see cref="TokenCredential"/> comes
/// from the container: a <see cref="DefaultAzureCredential"/> unless the host registered one. Options are validated at
/// start-up, with messages that name the setting.
/// </remarks>
public static class KuduServiceCollectionExtensions
{
    /// <summary>Deploys with Kudu zip deploy and reads and writes <c>PROJECT_VERSION</c> through ARM.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="KuduDeployerOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddKuduDeployer(this IIoMTDeploymentBuilder builder, Action<KuduDeployerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOptions(builder.Services, configure);
        builder.Services.TryAddSingleton<KuduConnectorDeployer>();
        ReplaceDeployer<KuduConnectorDeployer>(builder.Services);
        return builder;
    }

    /// <summary>Deploys by pointing each app at the build's package blob (<c>WEBSITE_RUN_FROM_PACKAGE</c>) in one settings write, then syncing its triggers.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="RunFromPackageDeployerOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddRunFromPackageDeployer(this IIoMTDeploymentBuilder builder, Action<RunFromPackageDeployerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOptions(builder.Services, configure);
        builder.Services.TryAddSingleton<RunFromPackageConnectorDeployer>();
        ReplaceDeployer<RunFromPackageConnectorDeployer>(builder.Services);
        return builder;
    }

    /// <summary>Takes the connectors from the Function apps ARM lists in a subscription or resource group.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; <see cref="ArmConnectorInventoryOptions.SubscriptionId"/> is required.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddArmConnectorInventory(this IIoMTDeploymentBuilder builder, Action<ArmConnectorInventoryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddOptions(builder.Services, configure);
        builder.Services.TryAddSingleton<ArmConnectorInventory>();
        builder.Services.RemoveAll<IConnectorInventory>();
        builder.Services.AddSingleton<IConnectorInventory>(static sp => sp.GetRequiredService<ArmConnectorInventory>());
        return builder;
    }

    private static void AddOptions<TOptions>(IServiceCollection services, Action<TOptions>? configure)
        where TOptions : AppServiceOptions
    {
        var firstCall = !services.Any(static d => d.ServiceType == typeof(IValidateOptions<TOptions>));
        var options = services.AddOptions<TOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (firstCall)
        {
            options.ValidateDataAnnotations().ValidateOnStart();
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenCredential>(static _ => new DefaultAzureCredential());
    }

    private static void ReplaceDeployer<TDeployer>(IServiceCollection services)
        where TDeployer : class, IConnectorDeployer
    {
        services.RemoveAll<IConnectorDeployer>();
        services.AddSingleton<IConnectorDeployer>(static sp => sp.GetRequiredService<TDeployer>());
    }
}
