using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class FunctionsHostStatusSignalTests(AppServiceHostFixture fixture)
{
    private readonly AppServiceHost _host = fixture.Host;

    [Fact]
    public async Task Running_is_healthy_and_the_status_is_read_through_ARM_without_function_keys()
    {
        var app = _host.AddApp(NewSubscription(), "rg", "hs-running-" + Guid.NewGuid().ToString("N")[..6]);

        var health = await Signal().GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.Healthy, health.Status);
        var request = Assert.Single(_host.RequestLog, r => r.App == app.Name && r.Route == AppServiceRoute.HostStatus);
        Assert.Equal("GET", request.Method);
        Assert.Contains("/host/default/properties/status?api-version=2024-04-01", request.Path, StringComparison.Ordinal);
        Assert.Equal("https://management.azure.com", request.TokenAudience);
        Assert.DoesNotContain(_host.RequestLog, r => r.App == app.Name && r.Path.Contains("keys", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("Error")]
    [InlineData("Offline")]
    public async Task Error_and_Offline_are_unhealthy_with_the_host_errors_as_the_reason(string state)
    {
        var app = _host.AddApp(NewSubscription(), "rg", "hs-" + state.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..6]);
        app.Health.HostState = state;
        app.Health.HostErrors = ["Microsoft.Azure.WebJobs.Host: Error indexing method 'Functions.NormalizeData'.", "Storage account connection string is invalid."];
        var logger = new FakeLogger<FunctionsHostStatusSignal>();

        var health = await Signal(logger).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains(state, health.Reason, StringComparison.Ordinal);
        Assert.Contains("Error indexing method 'Functions.NormalizeData'", health.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 4041);
    }

    [Theory]
    [InlineData(HealthFault.TooManyRequests, "429")]
    [InlineData(HealthFault.Forbidden, "403")]
    [InlineData(HealthFault.ServerError, "500")]
    [InlineData(HealthFault.MalformedJson, "not the expected JSON")]
    [InlineData(HealthFault.EmptySeries, "no properties.state")]
    public async Task A_failed_read_is_no_data_with_the_reason_and_logged_never_healthy(HealthFault fault, string reason)
    {
        var app = _host.AddApp(NewSubscription(), "rg", "hs-fault-" + Guid.NewGuid().ToString("N")[..6]);
        app.Health.Faults.Enqueue(fault, 10);
        var logger = new FakeLogger<FunctionsHostStatusSignal>();

        var health = await Signal(logger).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.NoData, health.Status);
        Assert.Contains(reason, health.Reason, StringComparison.Ordinal);
        var record = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 4040);
        Assert.Contains(app.Name, record.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", record.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_missing_host_a_deleted_site_and_a_starting_host_are_no_data()
    {
        var subscription = NewSubscription();
        var missing = _host.AddApp(subscription, "rg", "hs-missing-" + Guid.NewGuid().ToString("N")[..6]);
        missing.Health.HostMissing = true;
        var deleted = _host.AddApp(subscription, "rg", "hs-deleted-" + Guid.NewGuid().ToString("N")[..6]);
        _host.DeleteApp(deleted);
        var starting = _host.AddApp(subscription, "rg", "hs-starting-" + Guid.NewGuid().ToString("N")[..6]);
        starting.Health.HostState = "Starting";
        var signal = Signal();

        var results = new[] { await signal.GetHealthAsync(Query(missing)), await signal.GetHealthAsync(Query(deleted)), await signal.GetHealthAsync(Query(starting)) };

        Assert.All(results, r => Assert.Equal(HealthStatus.NoData, r.Status));
        Assert.Contains("404", results[0].Reason, StringComparison.Ordinal);
        Assert.Contains("404", results[1].Reason, StringComparison.Ordinal);
        Assert.Contains("Starting", results[2].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_within_the_network_timeout_is_no_data()
    {
        var app = _host.AddApp(NewSubscription(), "rg", "hs-slow-" + Guid.NewGuid().ToString("N")[..6]);
        app.Faults.Latency = TimeSpan.FromSeconds(5);

        var health = await Signal(configure: o =>
        {
            o.NetworkTimeout = TimeSpan.FromMilliseconds(200);
            o.MaxRetries = 0;
        }).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.NoData, health.Status);
        Assert.Contains("timeout", health.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connector_without_a_site_resource_id_is_no_data_naming_the_problem()
    {
        var health = await Signal().GetHealthAsync(new HealthQuery(new ConnectorTarget("no-id"), BuildNumber.Parse("1"), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow));

        Assert.Equal(HealthStatus.NoData, health.Status);
        Assert.Contains("has no ResourceId", health.Reason, StringComparison.Ordinal);
    }

    private FunctionsHostStatusSignal Signal(FakeLogger<FunctionsHostStatusSignal>? logger = null, Action<FunctionsHostStatusSignalOptions>? configure = null)
    {
        var options = new FunctionsHostStatusSignalOptions();
        Configure(options, _host);
        configure?.Invoke(options);
        return new FunctionsHostStatusSignal(Options.Create(options), _host.Credential, logger: logger);
    }

    internal static HealthQuery Query(AppServiceApp app) =>
        new(Target(app), BuildNumber.Parse("7"), DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow);
}
