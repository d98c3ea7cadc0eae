using IoMT.Deployment;
using IoMT.Deployment.Kudu;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes the App Service adapters: the Kudu and Run-From-Package deployers and the ARM connector inventory.</summary>
/// <remarks>
/// Each method replaces the <see cref="IConnectorDeployer"/> or <see cref="IConnectorInventory"/> registered before it
/// (the core's local defaults); calling it twice registers it once. Every adapter reaches ARM with the credential set
/// once on the builder (<see cref="IoMTDeploymentBuilderExtensions.UseCredential(IIoMTDeploymentBuilder, global::Azure.Core.TokenCredential)"/>);
/// without one, start-up fails naming that call. Options are validated at start-up, with messages that name the setting.
/// </remarks>
public static class KuduDeploymentBuilderExtensions
{
    /// <summary>Deploys with Kudu zip deploy and reads and writes <c>PROJECT_VERSION</c> through ARM.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="KuduDeployerOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddKuduDeployer(this IIoMTDeploymentBuilder builder, Action<KuduDeployerOptions>? configure = null) =>
        Add<KuduDeployerOptions, IConnectorDeployer, KuduConnectorDeployer>(builder, configure, nameof(AddKuduDeployer), static (sp, credential) => new KuduConnectorDeployer(
            sp.GetRequiredService<IOptions<KuduDeployerOptions>>(), credential, sp.GetService<TimeProvider>(), sp.GetService<ILogger<KuduConnectorDeployer>>()));

    /// <summary>Deploys by pointing each app at the build's package blob (<c>WEBSITE_RUN_FROM_PACKAGE</c>) in one settings write, then syncing its triggers.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="RunFromPackageDeployerOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddRunFromPackageDeployer(this IIoMTDeploymentBuilder builder, Action<RunFromPackageDeployerOptions>? configure = null) =>
        Add<RunFromPackageDeployerOptions, IConnectorDeployer, RunFromPackageConnectorDeployer>(builder, configure, nameof(AddRunFromPackageDeployer), static (sp, credential) => new RunFromPackageConnectorDeployer(
            sp.GetRequiredService<IOptions<RunFromPackageDeployerOptions>>(), credential, sp.GetService<TimeProvider>(), sp.GetService<ILogger<RunFromPackageConnectorDeployer>>()));

    /// <summary>Takes the connectors from the Function apps ARM lists in a subscription or resource group.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; <see cref="ArmConnectorInventoryOptions.SubscriptionId"/> is required.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddArmConnectorInventory(this IIoMTDeploymentBuilder builder, Action<ArmConnectorInventoryOptions>? configure = null) =>
        Add<ArmConnectorInventoryOptions, IConnectorInventory, ArmConnectorInventory>(builder, configure, nameof(AddArmConnectorInventory), static (sp, credential) => new ArmConnectorInventory(
            sp.GetRequiredService<IOptions<ArmConnectorInventoryOptions>>(), credential, sp.GetService<TimeProvider>(), sp.GetService<ILogger<ArmConnectorInventory>>()));

    private static IIoMTDeploymentBuilder Add<TOptions, TService, TAdapter>(
        IIoMTDeploymentBuilder builder,
        Action<TOptions>? configure,
        string requiredBy,
        Func<IServiceProvider, global::Azure.Core.TokenCredential, TAdapter> create)
        where TOptions : AppServiceOptions
        where TService : class
        where TAdapter : class, TService
    {
        builder.AddValidatedOptions(configure);
        return builder
            .RequireCredential<TOptions>(requiredBy)
            .ReplaceSeam<TService, TAdapter>(sp => create(sp, sp.GetDeploymentCredential(requiredBy)));
    }
}
