using Azure.Core;
using IoMT.Deployment.Composition;
using IoMT.Deployment.Cosmos;
using IoMT.Deployment.Kudu;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace IoMT.Deployment.Tests;

/// <summary>
/// A host that binds an options type from a section of its own says so with <c>UseOptionsSection</c>, and every
/// validation failure names keys under it: the DataAnnotations, the <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/>
/// rules and the packages' own validators. Without it, the convention section; an adapter's constructor
/// (<see cref="DeploymentOptionsValidation.ThrowIfInvalid{TOptions}(TOptions)"/>) always names the convention section.
/// </summary>
public sealed class HostOptionsSectionTests
{
    private static List<string> StartUpFailures<TOptions>(Func<IIoMTDeploymentBuilder, IIoMTDeploymentBuilder> compose)
        where TOptions : class
    {
        var services = new ServiceCollection();
        compose(services.AddIoMTDeployment().UseCredential(Mock.Of<TokenCredential>()));
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TOptions>>().Value).Failures.ToList();
    }

    [Theory]
    [InlineData("Azure:Arm", "Azure:Arm")]
    [InlineData(null, KuduDeployerOptions.SectionName)]
    public void A_host_named_section_names_the_keys_of_annotations_and_of_rules_across_settings(string? hostSection, string expected)
    {
        IIoMTDeploymentBuilder Name(IIoMTDeploymentBuilder builder) => hostSection is null ? builder : builder.UseOptionsSection<KuduDeployerOptions>(hostSection);

        var annotation = StartUpFailures<KuduDeployerOptions>(b => Name(b.AddKuduDeployer(o => o.PollInterval = TimeSpan.Zero)));
        var rule = StartUpFailures<KuduDeployerOptions>(b => Name(b.AddKuduDeployer(o => (o.RetryDelay, o.MaxRetryDelay) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)))));

        Assert.Equal([$"{expected}:PollInterval must be between 00:00:00.001 and 00:10:00."], annotation);
        Assert.Equal([$"{expected}:MaxRetryDelay must not be shorter than {expected}:RetryDelay."], rule);
    }

    [Fact]
    public void The_last_section_named_wins_whether_named_before_or_after_the_adapter_and_constructors_keep_the_convention_section()
    {
        var failures = StartUpFailures<KuduDeployerOptions>(b => b
            .UseOptionsSection<KuduDeployerOptions>("Earlier")
            .UseOptionsSection<KuduDeployerOptions>("Host:Arm")
            .AddKuduDeployer(o => o.PollInterval = TimeSpan.Zero));

        Assert.Equal(["Host:Arm:PollInterval must be between 00:00:00.001 and 00:10:00."], failures);
        var constructor = Assert.Throws<OptionsValidationException>(() => DeploymentOptionsValidation.ThrowIfInvalid(new KuduDeployerOptions { PollInterval = TimeSpan.Zero }));
        Assert.Equal(["IoMTDeployment:Kudu:PollInterval must be between 00:00:00.001 and 00:10:00."], constructor.Failures);
        Assert.Equal(
            ["IoMTDeployment:Kudu:MaxRetryDelay must not be shorter than IoMTDeployment:Kudu:RetryDelay."],
            DeploymentOptionsValidation.Failures(new KuduDeployerOptions { RetryDelay = TimeSpan.FromSeconds(2), MaxRetryDelay = TimeSpan.FromSeconds(1) }));
    }

    [Fact]
    public void The_sections_of_the_cores_options_the_packages_own_validators_and_a_shared_base_follow_the_host()
    {
        Assert.Equal(
            ["Host:Rollout:StateWriteAttempts must be between 1 and 20."],
            StartUpFailures<RolloutOptions>(b => b.Services.AddIoMTDeployment(o => o.StateWriteAttempts = 50).UseOptionsSection<RolloutOptions>("Host:Rollout")));
        Assert.Equal(
            ["Host:Rollout:Salt must not be empty."],
            StartUpFailures<RolloutOptions>(b => b.Services.AddIoMTDeployment(o => o.Salt = "").UseOptionsSection<RolloutOptions>("Host:Rollout")));
        Assert.Equal(
            ["Host:Local:MaxEntries must be positive."],
            StartUpFailures<LocalProviderOptions>(b => b.AddLocalProvider(o => o.MaxEntries = 0).UseOptionsSection<LocalProviderOptions>("Host:Local")));
        Assert.Contains(
            "Host:VersionStore:AccountKey needs Host:VersionStore:AccountEndpoint.",
            StartUpFailures<CosmosVersionStoreOptions>(b => b
                .AddCosmosVersionStore(o => (o.DatabaseName, o.AccountKey) = ("db", Convert.ToBase64String(new byte[32])))
                .UseOptionsSection<CosmosVersionStoreOptions>("Host:VersionStore")));

        // Two options classes over one base: each named by its own registration, or its own attribute.
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment().UseCredential(Mock.Of<TokenCredential>());
        builder.AddRunFromPackageDeployer(o => o.ManagedIdentityResourceId = "reader").UseOptionsSection<RunFromPackageDeployerOptions>("Azure:Arm");
        builder.AddArmConnectorInventory(o => o.SubscriptionId = "not-a-guid");
        using var provider = services.BuildServiceProvider();
        Assert.StartsWith("Azure:Arm:ManagedIdentityResourceId must be a resource id", Assert.Single(
            Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RunFromPackageDeployerOptions>>().Value).Failures), StringComparison.Ordinal);
        Assert.Equal(
            ["IoMTDeployment:ArmInventory:SubscriptionId must be a subscription GUID; got 'not-a-guid'."],
            Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ArmConnectorInventoryOptions>>().Value).Failures);
    }

    [Fact]
    public void A_rules_key_reads_the_section_of_its_validation_context_else_the_options_attribute()
    {
        var options = new KuduDeployerOptions();

        Assert.Equal("IoMTDeployment:Kudu:PollInterval", DeploymentOptionsValidation.Key(new System.ComponentModel.DataAnnotations.ValidationContext(options), "PollInterval"));
        Assert.Equal("IoMTDeployment:Kudu:PollInterval", DeploymentOptionsValidation.Key(options, "PollInterval"));
        Assert.Equal("Azure:Arm:PollInterval", DeploymentOptionsValidation.Key(options, "PollInterval", "Azure:Arm"));
        Assert.Throws<ArgumentException>(() => new OptionsSection<KuduDeployerOptions>(" "));
    }
}
