using Azure.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace IoMT.Deployment.Kudu.Tests;

public sealed class CompositionTests
{
    private sealed class Builder(IServiceCollection services) : IIoMTDeploymentBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    private static (IServiceCollection Services, IIoMTDeploymentBuilder Builder) NewBuilder(bool withCredential = true)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var builder = new Builder(services);
        if (withCredential)
        {
            builder.UseCredential(new Loopback.LoopbackTokenCredential());
        }

        return (services, builder);
    }

    private static string StartupValidationError(IServiceProvider provider)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        return ex.Message;
    }

    [Fact]
    public void AddKuduDeployer_replaces_the_local_deployer_and_a_second_call_is_harmless()
    {
        var (services, builder) = NewBuilder();
        services.AddSingleton(Mock.Of<IConnectorDeployer>());
        services.AddSingleton(Mock.Of<IConnectorDeployer>());

        builder.AddKuduDeployer().AddKuduDeployer(o => o.PollInterval = TimeSpan.FromSeconds(3));

        Assert.Single(services, d => d.ServiceType == typeof(IConnectorDeployer));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var deployer = provider.GetRequiredService<IConnectorDeployer>();
        Assert.IsType<KuduConnectorDeployer>(deployer);
        Assert.Same(deployer, provider.GetRequiredService<IConnectorDeployer>());
        Assert.Equal(TimeSpan.FromSeconds(3), provider.GetRequiredService<IOptions<KuduDeployerOptions>>().Value.PollInterval);
    }

    [Theory]
    [InlineData("AddKuduDeployer")]
    [InlineData("AddRunFromPackageDeployer")]
    [InlineData("AddArmConnectorInventory")]
    public void Without_a_credential_start_up_fails_naming_the_call_to_make_and_no_default_is_taken(string adapter)
    {
        var (services, builder) = NewBuilder(withCredential: false);
        _ = adapter switch
        {
            "AddKuduDeployer" => builder.AddKuduDeployer(),
            "AddRunFromPackageDeployer" => builder.AddRunFromPackageDeployer(),
            _ => builder.AddArmConnectorInventory(o => o.SubscriptionId = Guid.NewGuid().ToString()),
        };

        using var provider = services.BuildServiceProvider();

        var message = StartupValidationError(provider);
        Assert.Contains(adapter + " needs an Azure credential", message, StringComparison.Ordinal);
        Assert.Contains(".UseCredential(", message, StringComparison.Ordinal);
        Assert.Null(provider.GetService<TokenCredential>());
        var resolve = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService(adapter == "AddArmConnectorInventory" ? typeof(IConnectorInventory) : typeof(IConnectorDeployer)));
        Assert.Contains(".UseCredential(", resolve.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_credential_set_once_on_the_builder_reaches_every_adapter()
    {
        var (services, builder) = NewBuilder(withCredential: false);
        var credential = new Loopback.LoopbackTokenCredential();
        builder.AddKuduDeployer().UseCredential(credential).AddArmConnectorInventory(o => o.SubscriptionId = Guid.NewGuid().ToString());

        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Same(credential, provider.GetRequiredService<TokenCredential>());
        Assert.Single(services, d => d.ServiceType == typeof(TokenCredential));
    }

    [Fact]
    public void AddRunFromPackageDeployer_chosen_last_wins()
    {
        var (services, builder) = NewBuilder();

        builder.AddKuduDeployer().AddRunFromPackageDeployer();

        using var provider = services.BuildServiceProvider();
        Assert.IsType<RunFromPackageConnectorDeployer>(provider.GetRequiredService<IConnectorDeployer>());
        Assert.Single(services, d => d.ServiceType == typeof(IConnectorDeployer));
    }

    [Fact]
    public void AddArmConnectorInventory_replaces_the_local_inventory_and_keeps_a_registered_credential()
    {
        var (services, builder) = NewBuilder(withCredential: false);
        var credential = new Loopback.LoopbackTokenCredential();
        builder.UseCredential(credential);
        services.AddSingleton(Mock.Of<IConnectorInventory>());

        builder.AddArmConnectorInventory(o => o.SubscriptionId = Guid.NewGuid().ToString()).AddArmConnectorInventory();

        Assert.Single(services, d => d.ServiceType == typeof(IConnectorInventory));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<ArmConnectorInventory>(provider.GetRequiredService<IConnectorInventory>());
        Assert.Same(credential, provider.GetRequiredService<TokenCredential>());
    }

    [Fact]
    public void The_core_defaults_are_overridden_by_the_adapters()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var root = Path.Combine(Path.GetTempPath(), "iomt-kudu-" + Guid.NewGuid().ToString("N"));

        services.AddIoMTDeployment()
            .UseCredential(new Loopback.LoopbackTokenCredential())
            .AddLocalProvider(o => o.Root = root)
            .AddKuduDeployer()
            .AddArmConnectorInventory(o => o.SubscriptionId = Guid.NewGuid().ToString());

        using var provider = services.BuildServiceProvider();
        Assert.IsType<KuduConnectorDeployer>(provider.GetRequiredService<IConnectorDeployer>());
        Assert.IsType<ArmConnectorInventory>(provider.GetRequiredService<IConnectorInventory>());
    }

    // The start-up failures of a builder (with a credential) that the adapters were added to.
    private static List<string> StartupFailures(Action<IIoMTDeploymentBuilder> add)
    {
        var (services, builder) = NewBuilder();
        add(builder);
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate()).Failures.ToList();
    }

    [Theory]
    [InlineData("PollInterval", "IoMTDeployment:Kudu:PollInterval must be between 00:00:00.001 and 00:10:00.")]
    [InlineData("DeploymentTimeout", "IoMTDeployment:Kudu:DeploymentTimeout must be between 00:00:00.001 and 1.00:00:00.")]
    [InlineData("ConflictRetryLimit", "IoMTDeployment:Kudu:ConflictRetryLimit must be between 0 and 1000.")]
    [InlineData("MissingDeploymentLimit", "IoMTDeployment:Kudu:MissingDeploymentLimit must be between 0 and 1000.")]
    [InlineData("MaxRetries", "IoMTDeployment:Kudu:MaxRetries must be between 0 and 50.")]
    [InlineData("UploadTimeout", "IoMTDeployment:Kudu:UploadTimeout must be between 00:00:00.001 and 02:00:00.")]
    [InlineData("ArmEndpoint", "IoMTDeployment:Kudu:ArmEndpoint must be an absolute https URI (bearer tokens are only sent over TLS); got 'http://management.azure.com/'.")]
    [InlineData("ApiVersion", "IoMTDeployment:Kudu:ApiVersion must look like 2024-04-01 (optionally with -preview).")]
    [InlineData("ScmScope", "IoMTDeployment:Kudu:ScmScope is required (the Kudu token scope, e.g. https://management.core.windows.net/.default).")]
    [InlineData("MaxRetryDelay", "IoMTDeployment:Kudu:MaxRetryDelay must not be shorter than IoMTDeployment:Kudu:RetryDelay.")]
    public void Invalid_kudu_options_fail_at_start_naming_the_setting(string setting, string expected)
    {
        Assert.Equal(
            [expected],
            StartupFailures(b => b.AddKuduDeployer(o =>
            {
                switch (setting)
                {
                    case "PollInterval": o.PollInterval = TimeSpan.Zero; break;
                    case "DeploymentTimeout": o.DeploymentTimeout = TimeSpan.FromDays(2); break;
                    case "ConflictRetryLimit": o.ConflictRetryLimit = -1; break;
                    case "MissingDeploymentLimit": o.MissingDeploymentLimit = -1; break;
                    case "MaxRetries": o.MaxRetries = 100; break;
                    case "UploadTimeout": o.UploadTimeout = TimeSpan.Zero; break;
                    case "ArmEndpoint": o.ArmEndpoint = new Uri("http://management.azure.com"); break;
                    case "ApiVersion": o.ApiVersion = "latest"; break;
                    case "ScmScope": o.ScmScope = null!; break;
                    case "MaxRetryDelay": (o.RetryDelay, o.MaxRetryDelay) = (TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)); break;
                }
            })));
    }

    [Fact]
    public void Constructors_outside_DI_refuse_invalid_options_with_the_start_up_messages()
    {
        var credential = new Loopback.LoopbackTokenCredential();

        // Each adapter, built by hand, fails as the host would at start: same exception type, same message, same key.
        Assert.Equal(
            StartupFailures(b => b.AddKuduDeployer(o => o.PollInterval = TimeSpan.Zero)),
            Refused(() => new KuduConnectorDeployer(Options.Create(new KuduDeployerOptions { PollInterval = TimeSpan.Zero }), credential)));
        Assert.Equal(
            StartupFailures(b => b.AddRunFromPackageDeployer(o => o.MaxRetries = 100)),
            Refused(() => new RunFromPackageConnectorDeployer(Options.Create(new RunFromPackageDeployerOptions { MaxRetries = 100 }), credential)));
        Assert.Equal(
            ["IoMTDeployment:ArmInventory:SubscriptionId is required: the subscription whose Function apps are the connectors."],
            Refused(() => new ArmConnectorInventory(Options.Create(new ArmConnectorInventoryOptions()), credential)));
        Assert.Equal(
            ["IoMTDeployment:ArmThrottle:MaxConcurrentDeploymentsPerSubscription must be between 1 and 10000."],
            Refused(() => new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions { MaxConcurrentDeploymentsPerSubscription = 0 }))));
        Assert.Equal(
            StartupFailures(b => b.AddFunctionsHostStatusSignal(o => o.ApiVersion = "latest")),
            Refused(() => new FunctionsHostStatusSignal(Options.Create(new FunctionsHostStatusSignalOptions { ApiVersion = "latest" }), credential)));
        Assert.Equal(
            StartupFailures(b => b.AddAzureMonitorMetricsSignal(o => o.MaxBatchSize = 51)),
            Refused(() => new AzureMonitorMetricsSignal(Options.Create(new AzureMonitorMetricsSignalOptions { MaxBatchSize = 51 }), credential)));
        Assert.Equal(
            StartupFailures(b => b.AddApplicationInsightsFailureRateSignal(o => o.DefaultAppId = "not-a-guid")),
            Refused(() => new ApplicationInsightsFailureRateSignal(Options.Create(new ApplicationInsightsFailureRateSignalOptions { DefaultAppId = "not-a-guid" }), credential)));

        static List<string> Refused(Func<object> create) => Assert.Throws<OptionsValidationException>(create).Failures.ToList();
    }

    [Fact]
    public void The_inventory_needs_a_subscription_and_says_so_at_start()
    {
        Assert.Equal(
            ["IoMTDeployment:ArmInventory:SubscriptionId is required: the subscription whose Function apps are the connectors."],
            StartupFailures(b => b.AddArmConnectorInventory()));
    }

    [Theory]
    [InlineData("SubscriptionId", "IoMTDeployment:ArmInventory:SubscriptionId must be a subscription GUID; got 'my-subscription'.")]
    [InlineData("ResourceGroup", "IoMTDeployment:ArmInventory:ResourceGroup must be null (the whole subscription) or a resource group name.")]
    [InlineData("RequiredTagValue", "IoMTDeployment:ArmInventory:RequiredTagValue is set but IoMTDeployment:ArmInventory:RequiredTagName is not.")]
    [InlineData("ConnectorId", "IoMTDeployment:ArmInventory:ConnectorId must be SiteName or ResourceId; got '7'.")]
    public void Invalid_inventory_options_fail_at_start_naming_the_setting(string setting, string expected)
    {
        Assert.Equal(
            [expected],
            StartupFailures(b => b.AddArmConnectorInventory(o =>
            {
                o.SubscriptionId = Guid.NewGuid().ToString();
                switch (setting)
                {
                    case "SubscriptionId": o.SubscriptionId = "my-subscription"; break;
                    case "ResourceGroup": o.ResourceGroup = " "; break;
                    case "RequiredTagValue": o.RequiredTagValue = "true"; break;
                    case "ConnectorId": o.ConnectorId = (ConnectorIdSource)7; break;
                }
            })));
    }

    [Fact]
    public void A_managed_identity_that_is_not_a_resource_id_fails_at_start()
    {
        Assert.Equal(
            ["IoMTDeployment:RunFromPackage:ManagedIdentityResourceId must be a resource id (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}) or null."],
            StartupFailures(b => b.AddRunFromPackageDeployer(o => o.ManagedIdentityResourceId = "iomt-reader")));
    }

    public static TheoryData<AppServiceOptions, string> EveryAppServiceOptions => new()
    {
        { new KuduDeployerOptions(), KuduDeployerOptions.SectionName },
        { new RunFromPackageDeployerOptions(), RunFromPackageDeployerOptions.SectionName },
        { new ArmConnectorInventoryOptions { SubscriptionId = Guid.NewGuid().ToString() }, ArmConnectorInventoryOptions.SectionName },
        { new FunctionsHostStatusSignalOptions(), FunctionsHostStatusSignalOptions.SectionName },
        { new AzureMonitorMetricsSignalOptions(), AzureMonitorMetricsSignalOptions.SectionName },
        { new ApplicationInsightsFailureRateSignalOptions(), ApplicationInsightsFailureRateSignalOptions.SectionName },
    };

    [Theory]
    [MemberData(nameof(EveryAppServiceOptions))]
    public void A_setting_of_the_shared_base_is_named_in_the_section_of_each_options_class(AppServiceOptions options, string section)
    {
        options.MaxRetries = 51;
        options.ArmScope = null!;

        Assert.Equal(
            [$"{section}:ArmScope is required (the ARM token scope, e.g. https://management.azure.com/.default).", $"{section}:MaxRetries must be between 0 and 50."],
            IoMT.Deployment.Composition.DeploymentOptionsValidation.Failures(options).Order(StringComparer.Ordinal));

        options.MaxRetries = 5;
        options.ArmScope = AppServiceOptions.DefaultArmScope;
        options.ArmEndpoint = new Uri("http://arm.example");

        Assert.Equal(
            [$"{section}:ArmEndpoint must be an absolute https URI (bearer tokens are only sent over TLS); got 'http://arm.example/'."],
            IoMT.Deployment.Composition.DeploymentOptionsValidation.Failures(options));
    }

    [Theory]
    [InlineData("MetricsApiVersion", "IoMTDeployment:Gates:Metrics:MetricsApiVersion must look like 2023-10-01 (optionally with -preview).")]
    [InlineData("MetricsBatchEndpoint", "IoMTDeployment:Gates:Metrics:MetricsBatchEndpoint is required (e.g. https://{region}.metrics.monitor.azure.com).")]
    [InlineData("MetricsBatchEndpointScheme", "IoMTDeployment:Gates:Metrics:MetricsBatchEndpoint must be an absolute https URI template such as https://{region}.metrics.monitor.azure.com; got 'http://{region}.metrics.example'.")]
    [InlineData("VolumeMetric", "IoMTDeployment:Gates:Metrics:ErrorMetric and IoMTDeployment:Gates:Metrics:VolumeMetric must differ.")]
    [InlineData("MaxBatchSize", "IoMTDeployment:Gates:Metrics:MaxBatchSize must be between 1 and 50 (Azure Monitor's limit).")]
    public void Invalid_metrics_signal_options_fail_at_start_naming_the_setting(string setting, string expected)
    {
        Assert.Equal(
            [expected],
            StartupFailures(b => b.AddAzureMonitorMetricsSignal(o =>
            {
                switch (setting)
                {
                    case "MetricsApiVersion": o.MetricsApiVersion = "v1"; break;
                    case "MetricsBatchEndpoint": o.MetricsBatchEndpoint = null!; break;
                    case "MetricsBatchEndpointScheme": o.MetricsBatchEndpoint = "http://{region}.metrics.example"; break;
                    case "VolumeMetric": o.VolumeMetric = o.ErrorMetric; break;
                    case "MaxBatchSize": o.MaxBatchSize = 51; break;
                }
            })));
    }

    [Theory]
    [InlineData("QueryEndpoint", "IoMTDeployment:Gates:ApplicationInsights:QueryEndpoint must be an absolute https URI such as https://api.applicationinsights.io; got 'http://ai.example/'.")]
    [InlineData("DefaultAppId", "IoMTDeployment:Gates:ApplicationInsights:DefaultAppId must be an Application Insights application id (a GUID); got 'fleet'.")]
    [InlineData("MaxFailureRatioIncrease", "IoMTDeployment:Gates:ApplicationInsights:MaxFailureRatioIncrease must be between 0 and 1.")]
    public void Invalid_application_insights_signal_options_fail_at_start_naming_the_setting(string setting, string expected)
    {
        Assert.Equal(
            [expected],
            StartupFailures(b => b.AddApplicationInsightsFailureRateSignal(o =>
            {
                switch (setting)
                {
                    case "QueryEndpoint": o.QueryEndpoint = new Uri("http://ai.example"); break;
                    case "DefaultAppId": o.DefaultAppId = "fleet"; break;
                    case "MaxFailureRatioIncrease": o.MaxFailureRatioIncrease = 2; break;
                }
            })));
    }
}
