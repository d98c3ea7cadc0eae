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

    [Theory]
    [InlineData("PollInterval")]
    [InlineData("DeploymentTimeout")]
    [InlineData("ConflictRetryLimit")]
    [InlineData("MissingDeploymentLimit")]
    [InlineData("MaxRetries")]
    [InlineData("UploadTimeout")]
    [InlineData("ArmEndpoint")]
    [InlineData("ApiVersion")]
    [InlineData("ScmScope")]
    public void Invalid_kudu_options_fail_at_start_naming_the_setting(string setting)
    {
        var (services, builder) = NewBuilder();
        builder.AddKuduDeployer(o =>
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
            }
        });

        using var provider = services.BuildServiceProvider();

        Assert.Contains(setting, StartupValidationError(provider), StringComparison.Ordinal);
    }

    [Fact]
    public void The_inventory_needs_a_subscription_and_says_so_at_start()
    {
        var (services, builder) = NewBuilder();
        builder.AddArmConnectorInventory();

        using var provider = services.BuildServiceProvider();

        Assert.Contains("SubscriptionId", StartupValidationError(provider), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tag_value_without_a_tag_name_fails_at_start()
    {
        var (services, builder) = NewBuilder();
        builder.AddArmConnectorInventory(o => (o.SubscriptionId, o.RequiredTagValue) = (Guid.NewGuid().ToString(), "true"));

        using var provider = services.BuildServiceProvider();

        Assert.Contains("RequiredTagName", StartupValidationError(provider), StringComparison.Ordinal);
    }

    [Fact]
    public void A_managed_identity_that_is_not_a_resource_id_fails_at_start()
    {
        var (services, builder) = NewBuilder();
        builder.AddRunFromPackageDeployer(o => o.ManagedIdentityResourceId = "iomt-reader");

        using var provider = services.BuildServiceProvider();

        Assert.Contains("ManagedIdentityResourceId", StartupValidationError(provider), StringComparison.Ordinal);
    }
}
