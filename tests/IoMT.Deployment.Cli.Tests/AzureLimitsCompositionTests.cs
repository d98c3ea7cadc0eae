using System.Text.Json;
using IoMT.Deployment.Cli.Output;
using IoMT.Deployment.Kudu;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The azure provider composes the per-subscription throttle (on by default) and the gates (off by default); the dry run shows the limits.</summary>
public sealed class AzureLimitsCompositionTests
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static ServiceProvider Compose(params (string Key, string Value)[] extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["IOMT_DEPLOY__PROVIDER"] = "azure",
            ["IOMT_DEPLOY__AZURE__BLOBS__CONNECTIONSTRING"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
            ["IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTENDPOINT"] = "https://127.0.0.1:9/",
            ["IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTKEY"] = Convert.ToBase64String(new byte[32]),
            ["IOMT_DEPLOY__AZURE__COSMOS__DATABASENAME"] = "iomt",
        };
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        var configuration = CliSettings.BuildConfiguration(null, environment, new Dictionary<string, string?>());
        var settings = CliSettings.Read(configuration, environment);
        return Composition.CliServices.Build(settings, configuration, Composition.CommandNeeds.Engine, new Logging.CliLogFormatterOptions());
    }

    [Fact]
    public void The_throttle_is_on_by_default_with_its_limits_from_Azure_Throttle_and_the_gates_are_off()
    {
        using var services = Compose(("IOMT_DEPLOY__AZURE__THROTTLE__WRITEBURST", "120"), ("IOMT_DEPLOY__AZURE__DEPLOYER", "runfrompackage"));

        Assert.Equal(120, services.GetRequiredService<IOptions<ArmSubscriptionThrottleOptions>>().Value.WriteBurst);
        Assert.IsType<SubscriptionThrottledRolloutPolicy>(services.GetRequiredService<IRolloutPolicy>());
        var limits = Assert.IsType<ArmDeploymentLimits>(services.GetRequiredService<IDeploymentLimits>());
        Assert.Equal(ArmRequestCost.RunFromPackage, limits.CostPerConnector);
        Assert.Empty(services.GetServices<IConnectorHealthSignal>());
    }

    [Fact]
    public void The_throttle_can_be_turned_off_and_the_gates_on()
    {
        using var services = Compose(
            ("IOMT_DEPLOY__AZURE__THROTTLE__ENABLED", "false"),
            ("IOMT_DEPLOY__AZURE__GATES__HOSTSTATUS__ENABLED", "true"),
            ("IOMT_DEPLOY__AZURE__GATES__METRICS__ENABLED", "true"),
            ("IOMT_DEPLOY__AZURE__GATES__METRICS__MINIMUMSAMPLE", "7"));

        Assert.Null(services.GetService<IDeploymentLimits>());
        Assert.IsNotType<SubscriptionThrottledRolloutPolicy>(services.GetRequiredService<IRolloutPolicy>());
        var signals = services.GetServices<IConnectorHealthSignal>().ToList();
        Assert.Contains(signals, s => s is FunctionsHostStatusSignal);
        Assert.Contains(signals, s => s is AzureMonitorMetricsSignal);
    }

    [Fact]
    public void A_throttle_switch_that_is_not_a_boolean_is_bad_input_naming_it()
    {
        var ex = Assert.Throws<CliException>(() => Compose(("IOMT_DEPLOY__AZURE__THROTTLE__ENABLED", "maybe")).Dispose());
        Assert.Equal(ExitCodes.BadInput, ex.ExitCode);
        Assert.Contains("Azure:Throttle:Enabled (IOMT_DEPLOY__AZURE__THROTTLE__ENABLED) must be true or false; got 'maybe'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Azure:Throttle:WriteBurst must be between 1 and 100000.", "THROTTLE__WRITEBURST", "0", null, null)]
    [InlineData("Azure:Arm:PollInterval must be between 00:00:00.001 and 00:10:00.", "ARM__POLLINTERVAL", "00:00:00", null, null)]
    [InlineData("Azure:Arm:ManagedIdentityResourceId must be a resource id (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}) or null.", "ARM__MANAGEDIDENTITYRESOURCEID", "iomt-reader", "DEPLOYER", "runfrompackage")]
    [InlineData("Azure:Arm:SubscriptionId must be a subscription GUID; got 'not-a-guid'.", "ARM__SUBSCRIPTIONID", "not-a-guid", "INVENTORY", "arm")]
    [InlineData("Azure:Cosmos:VersionStore:HistoryLimit must be between 1 and 100000.", "COSMOS__VERSIONSTORE__HISTORYLIMIT", "0", null, null)]
    [InlineData("Azure:Cosmos:Connectors:MaxItemCount must be between 1 and 10000.", "COSMOS__CONNECTORS__MAXITEMCOUNT", "0", null, null)]
    [InlineData("Azure:Gates:HostStatus:MaxRetries must be between 0 and 50.", "GATES__HOSTSTATUS__MAXRETRIES", "51", "GATES__HOSTSTATUS__ENABLED", "true")]
    [InlineData("Azure:Gates:Metrics:MaxBatchSize must be between 1 and 50 (Azure Monitor's limit).", "GATES__METRICS__MAXBATCHSIZE", "51", "GATES__METRICS__ENABLED", "true")]
    [InlineData("Azure:Blobs:Lock:RenewInterval (00:00:30) must be shorter than Azure:Blobs:Lock:LeaseDuration (00:00:20), or the lease expires between renewals.", "BLOBS__LOCK__RENEWINTERVAL", "00:00:30", "BLOBS__LOCK__LEASEDURATION", "00:00:20")]
    public void An_invalid_adapter_setting_is_bad_input_named_by_the_tools_own_key(string expected, string key, string value, string? otherKey, string? otherValue)
    {
        (string, string)[] settings = otherKey is null
            ? [("IOMT_DEPLOY__AZURE__" + key, value)]
            : [("IOMT_DEPLOY__AZURE__" + key, value), ("IOMT_DEPLOY__AZURE__" + otherKey, otherValue!)];

        var ex = Assert.Throws<CliException>(() => Compose(settings).Dispose());

        Assert.Equal(ExitCodes.BadInput, ex.ExitCode);
        Assert.Contains("Invalid setting: " + expected + Environment.NewLine, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("IoMTDeployment:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dry_run_shows_connectors_arm_requests_and_time_per_subscription_in_json_and_text()
    {
        var plan = new RolloutPlan
        {
            Kind = RolloutKind.Update,
            Target = BuildNumber.Parse("4"),
            Connectors = [new PlannedConnector(new ConnectorTarget("c1"), PlannedAction.Deploy, "3", 0)],
            Waves = [new PlannedWave { Name = "all", Connectors = ["c1"] }],
            Fingerprint = "sha256:abc",
            EstimatedDuration = TimeSpan.FromSeconds(400),
            Limits = new DeploymentLimitEstimate(
            [
                new LimitScopeEstimate("sub-a", 10, 40, 10, TimeSpan.Zero, 10),
                new LimitScopeEstimate("sub-c", 1000, 4000, 1000, TimeSpan.FromSeconds(400), 50),
            ]),
        };

        var result = PlanResult.Of(plan, new VersionState());
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result, JsonOutput.Options));
        var subscriptions = json.RootElement.GetProperty("subscriptions").EnumerateArray().ToList();
        Assert.Equal(["sub-a", "sub-c"], subscriptions.Select(s => s.GetProperty("subscription").GetString()));
        Assert.Equal([10, 1000], subscriptions.Select(s => s.GetProperty("connectors").GetInt32()));
        Assert.Equal([40L, 4000L], subscriptions.Select(s => s.GetProperty("armWrites").GetInt64()));
        Assert.Equal([10L, 1000L], subscriptions.Select(s => s.GetProperty("armReads").GetInt64()));
        Assert.Equal([0L, 400_000L], subscriptions.Select(s => s.GetProperty("estimatedMs").GetInt64()));
        Assert.Equal(400_000, json.RootElement.GetProperty("limitsBoundMs").GetInt64());

        using var text = new StringWriter();
        TextOutput.Write(text, result);
        Assert.Contains("Per subscription, under the ARM limits (2; the slowest takes 00:06:40):", text.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"sub-c\s+1000\s+4000\s+1000\s+400\.0s", text.ToString());

        var withoutLimits = PlanResult.Of(plan with { Limits = null }, new VersionState());
        Assert.Null(withoutLimits.Subscriptions);
    }
}
