using IoMT.Deployment;
using Microsoft.Extensions.DependencyInjection.Extensions;
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

    /// <summary>
    /// Adds the Functions host status health signal (<c>GET {arm}{siteId}/host/default/properties/status</c>): the wave
    /// gates read <c>Running</c> as healthy, <c>Error</c>/<c>Offline</c> as unhealthy with the host's errors, anything else as no data.
    /// </summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="FunctionsHostStatusSignalOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddFunctionsHostStatusSignal(this IIoMTDeploymentBuilder builder, Action<FunctionsHostStatusSignalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions(configure);
        builder.RequireCredential<FunctionsHostStatusSignalOptions>(nameof(AddFunctionsHostStatusSignal));
        builder.Services.TryAddSingleton(static sp => new FunctionsHostStatusSignal(
            sp.GetRequiredService<IOptions<FunctionsHostStatusSignalOptions>>(), sp.GetDeploymentCredential(nameof(AddFunctionsHostStatusSignal)), sp.GetService<TimeProvider>(), sp.GetService<ILogger<FunctionsHostStatusSignal>>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorHealthSignal, FunctionsHostStatusSignal>(static sp => sp.GetRequiredService<FunctionsHostStatusSignal>()));
        return builder;
    }

    /// <summary>
    /// Adds the Azure Monitor metrics health signal: the error ratio of the window after the deploy against the same-length
    /// window before it, read per app through ARM or, for connectors whose region is known, through the regional
    /// <c>metrics:getBatch</c> endpoint in batches of up to 50 of one subscription and region.
    /// </summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="AzureMonitorMetricsSignalOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddAzureMonitorMetricsSignal(this IIoMTDeploymentBuilder builder, Action<AzureMonitorMetricsSignalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions(configure);
        builder.RequireCredential<AzureMonitorMetricsSignalOptions>(nameof(AddAzureMonitorMetricsSignal));
        builder.Services.TryAddSingleton(static sp => new AzureMonitorMetricsSignal(
            sp.GetRequiredService<IOptions<AzureMonitorMetricsSignalOptions>>(), sp.GetDeploymentCredential(nameof(AddAzureMonitorMetricsSignal)), sp.GetService<TimeProvider>(), sp.GetService<ILogger<AzureMonitorMetricsSignal>>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorHealthSignal, AzureMonitorMetricsSignal>(static sp => sp.GetRequiredService<AzureMonitorMetricsSignal>()));
        return builder;
    }

    /// <summary>
    /// Adds the optional Application Insights failure rate health signal: the failed share of the connector's
    /// <c>requests</c> (<c>cloud_RoleName</c> = the site name) in the window after the deploy against the same-length window
    /// before it, read through the query API (<c>POST https://api.applicationinsights.io/v1/apps/{appId}/query</c>) with the
    /// builder's credential. The application id comes from a connector tag, a mapping or a default.
    /// </summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the options; see <see cref="ApplicationInsightsFailureRateSignalOptions"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddApplicationInsightsFailureRateSignal(this IIoMTDeploymentBuilder builder, Action<ApplicationInsightsFailureRateSignalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions(configure);
        builder.RequireCredential<ApplicationInsightsFailureRateSignalOptions>(nameof(AddApplicationInsightsFailureRateSignal));
        builder.Services.TryAddSingleton(static sp => new ApplicationInsightsFailureRateSignal(
            sp.GetRequiredService<IOptions<ApplicationInsightsFailureRateSignalOptions>>(), sp.GetDeploymentCredential(nameof(AddApplicationInsightsFailureRateSignal)), sp.GetService<TimeProvider>(), sp.GetService<ILogger<ApplicationInsightsFailureRateSignal>>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorHealthSignal, ApplicationInsightsFailureRateSignal>(static sp => sp.GetRequiredService<ApplicationInsightsFailureRateSignal>()));
        return builder;
    }

    /// <summary>
    /// Keeps every App Service adapter's ARM requests under the per-subscription limits (token buckets for writes and
    /// reads, a shared pause after a 429) and wraps the registered rollout policy in a
    /// <see cref="SubscriptionThrottledRolloutPolicy"/> (concurrent deployments per subscription). Call it after any
    /// <c>UseRolloutPolicy</c>; a second call only configures the options again. It also registers the limits as the
    /// engine's <see cref="IDeploymentLimits"/> (<see cref="ArmDeploymentLimits"/>), so a plan (<c>update --dry-run</c>)
    /// shows the connectors, ARM requests and time per subscription.
    /// </summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configure">Sets the limits; see <see cref="ArmSubscriptionThrottleOptions"/> for the defaults and why they sit under Azure's.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder AddArmSubscriptionThrottle(this IIoMTDeploymentBuilder builder, Action<ArmSubscriptionThrottleOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var firstCall = !services.Any(static d => d.ServiceType == typeof(ArmSubscriptionThrottle));
        builder.AddValidatedOptions(configure);
        if (!firstCall)
        {
            return builder;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(static sp => new ArmSubscriptionThrottle(
            sp.GetRequiredService<IOptions<ArmSubscriptionThrottleOptions>>(), sp.GetService<TimeProvider>(), sp.GetService<ILogger<ArmSubscriptionThrottle>>()));
        services.TryAddSingleton<IDeploymentLimits>(static sp => new ArmDeploymentLimits(
            sp.GetRequiredService<ArmSubscriptionThrottle>(),
            sp.GetService<IConnectorDeployer>() is RunFromPackageConnectorDeployer ? ArmRequestCost.RunFromPackage : ArmRequestCost.Kudu));
        UseThrottle<KuduDeployerOptions>(services);
        UseThrottle<RunFromPackageDeployerOptions>(services);
        UseThrottle<ArmConnectorInventoryOptions>(services);
        UseThrottle<FunctionsHostStatusSignalOptions>(services);
        UseThrottle<AzureMonitorMetricsSignalOptions>(services);

        var inner = services.LastOrDefault(static d => d.ServiceType == typeof(IRolloutPolicy));
        if (inner is not null)
        {
            services.Remove(inner);
            services.AddSingleton<IRolloutPolicy>(sp => new SubscriptionThrottledRolloutPolicy(Resolve(sp, inner), sp.GetRequiredService<ArmSubscriptionThrottle>()));
        }

        return builder;
    }

    private static void UseThrottle<TOptions>(IServiceCollection services)
        where TOptions : AppServiceOptions =>
        services.AddOptions<TOptions>().PostConfigure<ArmSubscriptionThrottle>(static (options, throttle) => options.SubscriptionThrottle ??= throttle);

    private static IRolloutPolicy Resolve(IServiceProvider services, ServiceDescriptor descriptor) => descriptor switch
    {
        { ImplementationInstance: IRolloutPolicy instance } => instance,
        { ImplementationFactory: { } factory } => (IRolloutPolicy)factory(services),
        { ImplementationType: { } type } => (IRolloutPolicy)ActivatorUtilities.CreateInstance(services, type),
        _ => throw new InvalidOperationException("The registered IRolloutPolicy cannot be wrapped by the subscription throttle."),
    };

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
