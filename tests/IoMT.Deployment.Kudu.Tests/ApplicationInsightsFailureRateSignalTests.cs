using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class ApplicationInsightsFailureRateSignalTests(AppServiceHostFixture fixture)
{
    // Whole minutes, so the host's per-minute series split exactly at the deploy.
    private static readonly DateTimeOffset Until = new(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero);
    private static readonly DateTimeOffset Since = Until.AddMinutes(-10);
    private static readonly DateTimeOffset Before = Since.AddMinutes(-10);

    private readonly AppServiceHost _host = fixture.Host;

    [Fact]
    public async Task A_steady_failure_ratio_is_healthy_and_the_query_names_the_window_the_role_and_the_audience()
    {
        var (insights, app) = NewApp();
        insights.SetRequests(app.Name, Before, Until, totalPerMinute: 100, failedPerMinute: 1);
        insights.SetRequests("another-role", Before, Until, totalPerMinute: 100, failedPerMinute: 100);

        var health = await Signal().GetHealthAsync(Query(app, insights.AppId));

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Contains("10 of 1000", health.Reason, StringComparison.Ordinal);
        var request = Assert.Single(_host.RequestLog, r => r.Route == AppServiceRoute.AppInsightsQuery && r.App == insights.AppId);
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/v1/apps/{insights.AppId}/query", request.Path);
        Assert.Equal(200, request.StatusCode);
        var sent = Assert.Single(_host.AppInsightsQueries, q => q.AppId == insights.AppId);
        Assert.Equal("https://api.applicationinsights.io", sent.TokenAudience);
        Assert.Contains("requests", sent.Query, StringComparison.Ordinal);
        Assert.Contains($"cloud_RoleName =~ '{app.Name}'", sent.Query, StringComparison.Ordinal);
        Assert.Contains($"let before = datetime({Iso(Before)});", sent.Query, StringComparison.Ordinal);
        Assert.Contains($"let since = datetime({Iso(Since)});", sent.Query, StringComparison.Ordinal);
        Assert.Contains($"let until = datetime({Iso(Until)});", sent.Query, StringComparison.Ordinal);
        Assert.Contains("countif(success == false)", sent.Query, StringComparison.Ordinal);
        Assert.Equal(Iso(Before) + "/" + Iso(Until), sent.Timespan);
    }

    [Fact]
    public async Task A_rise_of_the_failure_ratio_beyond_the_threshold_is_unhealthy_and_logged()
    {
        var (insights, app) = NewApp();
        insights.SetRequests(app.Name, Before, Since, totalPerMinute: 100, failedPerMinute: 1);
        insights.SetRequests(app.Name, Since, Until, totalPerMinute: 100, failedPerMinute: 10);
        var logger = new FakeLogger<ApplicationInsightsFailureRateSignal>();

        var health = await Signal(logger).GetHealthAsync(Query(app, insights.AppId));

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("100 of 1000", health.Reason, StringComparison.Ordinal);
        Assert.Contains("1.0 % before (10 of 1000)", health.Reason, StringComparison.Ordinal);
        Assert.Contains("a rise of 9.0 %", health.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 4041 && r.Message.Contains(app.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_threshold_is_an_option_and_a_baseline_already_failing_is_not_a_rise()
    {
        var (insights, app) = NewApp();
        insights.SetRequests(app.Name, Before, Since, totalPerMinute: 100, failedPerMinute: 20);
        insights.SetRequests(app.Name, Since, Until, totalPerMinute: 100, failedPerMinute: 21);

        var lenient = await Signal().GetHealthAsync(Query(app, insights.AppId));
        var strict = await Signal(configure: o => o.MaxFailureRatioIncrease = 0.005).GetHealthAsync(Query(app, insights.AppId));

        Assert.Equal(HealthStatus.Healthy, lenient.Status);
        Assert.Equal(HealthStatus.Unhealthy, strict.Status);
    }

    [Fact]
    public async Task No_requests_or_fewer_than_the_minimum_sample_after_the_deploy_is_no_data_never_healthy()
    {
        var (empty, emptyApp) = NewApp();
        empty.SetRequests(emptyApp.Name, Before, Since, totalPerMinute: 100, failedPerMinute: 0);
        var (small, smallApp) = NewApp();
        small.SetRequests(smallApp.Name, Before, Until, totalPerMinute: 4, failedPerMinute: 0);
        var signal = Signal();

        var none = await signal.GetHealthAsync(Query(emptyApp, empty.AppId));
        var few = await signal.GetHealthAsync(Query(smallApp, small.AppId));

        Assert.Equal(HealthStatus.NoData, none.Status);
        Assert.Contains("no requests after the deploy", none.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.NoData, few.Status);
        Assert.Contains("40 requests after the deploy, fewer than the minimum sample of 50", few.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HealthFault.TooManyRequests, "429")]
    [InlineData(HealthFault.Forbidden, "403")]
    [InlineData(HealthFault.ServerError, "500")]
    [InlineData(HealthFault.MalformedJson, "not the expected JSON")]
    [InlineData(HealthFault.UnexpectedShape, "not a window name with total and failed counts")]
    [InlineData(HealthFault.EmptySeries, "no requests after the deploy")]
    public async Task A_failed_query_is_no_data_with_the_reason_and_logged_never_healthy(HealthFault fault, string reason)
    {
        var (insights, app) = NewApp();
        insights.SetRequests(app.Name, Before, Until, totalPerMinute: 100, failedPerMinute: 0);
        insights.Faults.Enqueue(fault, 10);
        var logger = new FakeLogger<ApplicationInsightsFailureRateSignal>();

        var health = await Signal(logger).GetHealthAsync(Query(app, insights.AppId));

        Assert.Equal(HealthStatus.NoData, health.Status);
        Assert.Contains(reason, health.Reason, StringComparison.Ordinal);
        var record = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 4040);
        Assert.Contains(app.Name, record.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", record.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("eyJ", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_client_retries_a_429_after_its_Retry_After_and_then_reads_the_counts()
    {
        var (insights, app) = NewApp();
        insights.SetRequests(app.Name, Before, Until, totalPerMinute: 100, failedPerMinute: 0);
        insights.Faults.Enqueue(HealthFault.TooManyRequests);

        var health = await Signal().GetHealthAsync(Query(app, insights.AppId));

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal([429, 200], _host.RequestLog.Where(r => r.App == insights.AppId).OrderBy(r => r.Sequence).Select(r => r.StatusCode));
    }

    [Fact]
    public async Task Without_an_application_id_or_with_an_unknown_one_it_is_no_data_naming_the_problem()
    {
        var app = _host.AddApp(NewSubscription(), "rg", "ai-noid-" + Guid.NewGuid().ToString("N")[..6]);
        var unknown = Guid.NewGuid().ToString();
        var signal = Signal();

        var untagged = await signal.GetHealthAsync(new HealthQuery(Target(app), BuildNumber.Parse("7"), Since, Until));
        var notAGuid = await signal.GetHealthAsync(Query(app, "my-app-insights"));
        var missing = await signal.GetHealthAsync(Query(app, unknown));

        Assert.Equal(HealthStatus.NoData, untagged.Status);
        Assert.Contains("no Application Insights application id", untagged.Reason, StringComparison.Ordinal);
        Assert.Contains("appInsightsAppId", untagged.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.NoData, notAGuid.Status);
        Assert.Contains("'my-app-insights' is not an Application Insights application id", notAGuid.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.NoData, missing.Status);
        Assert.Contains("404", missing.Reason, StringComparison.Ordinal);
        Assert.Equal([unknown], _host.AppInsightsQueries.Where(q => q.Query.Contains(app.Name, StringComparison.Ordinal)).Select(q => q.AppId));
    }

    [Fact]
    public async Task The_application_id_can_come_from_the_mapping_or_the_default_instead_of_a_tag()
    {
        var (insights, mapped) = NewApp();
        var byDefault = _host.AddApp(NewSubscription(), "rg", "ai-default-" + Guid.NewGuid().ToString("N")[..6]);
        insights.SetRequests(mapped.Name, Before, Until, totalPerMinute: 100, failedPerMinute: 0);
        insights.SetRequests(byDefault.Name, Before, Until, totalPerMinute: 100, failedPerMinute: 50);
        var signal = Signal(configure: o =>
        {
            o.AppIds[mapped.Name] = insights.AppId;
            o.DefaultAppId = insights.AppId;
        });

        var fromMapping = await signal.GetHealthAsync(new HealthQuery(Target(mapped), BuildNumber.Parse("7"), Since, Until));
        var fromDefault = await signal.GetHealthAsync(new HealthQuery(Target(byDefault), BuildNumber.Parse("7"), Since, Until));

        Assert.Equal(HealthStatus.Healthy, fromMapping.Status);
        Assert.Equal(HealthStatus.Healthy, fromDefault.Status);
        Assert.Contains("500 of 1000", fromDefault.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_within_the_network_timeout_is_no_data()
    {
        var (insights, app) = NewApp();
        insights.Latency = TimeSpan.FromSeconds(5);

        var health = await Signal(configure: o =>
        {
            o.NetworkTimeout = TimeSpan.FromMilliseconds(200);
            o.MaxRetries = 0;
        }).GetHealthAsync(Query(app, insights.AppId));

        Assert.Equal(HealthStatus.NoData, health.Status);
        Assert.Contains("timeout", health.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_builder_registers_it_as_a_health_signal_and_refuses_an_application_id_that_is_not_a_GUID()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        new TestBuilder(services).UseCredential(new LoopbackTokenCredential())
            .AddApplicationInsightsFailureRateSignal().AddApplicationInsightsFailureRateSignal();
        using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.IsType<ApplicationInsightsFailureRateSignal>(Assert.Single(provider.GetServices<IConnectorHealthSignal>()));
        }

        var bad = new ServiceCollection();
        bad.AddLogging();
        new TestBuilder(bad).UseCredential(new LoopbackTokenCredential())
            .AddApplicationInsightsFailureRateSignal(o => o.AppIds["c1"] = "not-a-guid");
        using var badProvider = bad.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Equal(["IoMTDeployment:Gates:ApplicationInsights:AppIds:c1 must be an Application Insights application id (a GUID); got 'not-a-guid'."], ex.Failures);
    }

    private (AppInsightsApp Insights, AppServiceApp App) NewApp() =>
        (_host.AddAppInsights(), _host.AddApp(NewSubscription(), "rg", "ai-" + Guid.NewGuid().ToString("N")[..8]));

    private ApplicationInsightsFailureRateSignal Signal(FakeLogger<ApplicationInsightsFailureRateSignal>? logger = null, Action<ApplicationInsightsFailureRateSignalOptions>? configure = null)
    {
        var options = new ApplicationInsightsFailureRateSignalOptions();
        Configure(options, _host);
        options.QueryEndpoint = _host.AppInsightsEndpoint;
        configure?.Invoke(options);
        return new ApplicationInsightsFailureRateSignal(Options.Create(options), _host.Credential, logger: logger);
    }

    private static HealthQuery Query(AppServiceApp app, string appId) =>
        new(Target(app) with { Tags = new Dictionary<string, string> { ["appInsightsAppId"] = appId } }, BuildNumber.Parse("7"), Since, Until);

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class TestBuilder(IServiceCollection services) : IIoMTDeploymentBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
