using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class AzureMonitorMetricsSignalTests(AppServiceHostFixture fixture)
{
    private static readonly DateTimeOffset Since = DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    private static readonly DateTimeOffset Until = Since.AddMinutes(10);
    private readonly AppServiceHost _host = fixture.Host;

    [Fact]
    public async Task A_steady_error_ratio_is_healthy_and_the_per_app_read_has_the_metrics_API_shape()
    {
        var app = App(NewSubscription(), errorsBefore: 1, errorsAfter: 1);

        var health = await Signal(o => o.UseBatch = false).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.Healthy, health.Status);
        var request = Assert.Single(_host.RequestLog, r => r.App == app.Name && r.Route == AppServiceRoute.Metrics);
        Assert.Equal("GET", request.Method);
        Assert.Contains("/providers/Microsoft.Insights/metrics?api-version=2023-10-01&metricnames=Http5xx,Requests&timespan=2026-03-01T09%3A50%3A00Z%2F2026-03-01T10%3A10%3A00Z&interval=PT1M&aggregation=Total", request.Path, StringComparison.Ordinal);
        Assert.Equal("https://management.azure.com", request.TokenAudience);
    }

    [Fact]
    public async Task An_error_ratio_rise_over_the_connectors_own_baseline_is_unhealthy()
    {
        var app = App(NewSubscription(), errorsBefore: 1, errorsAfter: 20);
        var logger = new FakeLogger<AzureMonitorMetricsSignal>();

        var health = await Signal(o => o.UseBatch = false, logger).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("20.0 % after the deploy (200 of 1000) against 1.0 % before", health.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 4041);
    }

    [Fact]
    public async Task Thresholds_and_metric_names_are_options()
    {
        var app = App(NewSubscription(), errorsBefore: 1, errorsAfter: 20, volumeMetric: "FunctionExecutionCount");

        var tolerant = await Signal(o =>
        {
            o.UseBatch = false;
            o.VolumeMetric = "FunctionExecutionCount";
            o.MaxErrorRatioIncrease = 0.25;
        }).GetHealthAsync(Query(app));
        var unknownMetric = await Signal(o => o.UseBatch = false).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.Healthy, tolerant.Status);
        Assert.Contains(_host.RequestLog, r => r.App == app.Name && r.Path.Contains("metricnames=Http5xx,FunctionExecutionCount", StringComparison.Ordinal));
        Assert.Equal(HealthStatus.NoData, unknownMetric.Status);
        Assert.Contains("empty Requests series", unknownMetric.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_series_or_fewer_requests_than_the_minimum_sample_is_no_data_never_healthy()
    {
        var subscription = NewSubscription();
        var empty = App(subscription, errorsBefore: 0, errorsAfter: 0);
        empty.Health.Faults.Enqueue(HealthFault.EmptySeries);
        var quiet = App(subscription, errorsBefore: 0, errorsAfter: 0, requestsPerMinute: 3);
        var signal = Signal(o => o.UseBatch = false);

        var emptyHealth = await signal.GetHealthAsync(Query(empty));
        var quietHealth = await signal.GetHealthAsync(Query(quiet));

        Assert.Equal(HealthStatus.NoData, emptyHealth.Status);
        Assert.Contains("empty", emptyHealth.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.NoData, quietHealth.Status);
        Assert.Contains("30 Requests after the deploy, fewer than the minimum sample of 50", quietHealth.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HealthFault.TooManyRequests, "429")]
    [InlineData(HealthFault.Forbidden, "403")]
    [InlineData(HealthFault.ServerError, "500")]
    [InlineData(HealthFault.MalformedJson, "not the expected JSON")]
    public async Task A_failed_per_app_read_is_no_data_with_the_reason_and_logged(HealthFault fault, string reason)
    {
        var app = App(NewSubscription(), errorsBefore: 1, errorsAfter: 1);
        app.Health.Faults.Enqueue(fault, 10);
        var logger = new FakeLogger<AzureMonitorMetricsSignal>();

        var health = await Signal(o => o.UseBatch = false, logger).GetHealthAsync(Query(app));

        Assert.Equal(HealthStatus.NoData, health.Status);
        Assert.Contains(reason, health.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 4040 && r.Message.Contains(app.Name, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(HealthFault.TooManyRequests, "429")]
    [InlineData(HealthFault.Forbidden, "403")]
    [InlineData(HealthFault.ServerError, "500")]
    [InlineData(HealthFault.MalformedJson, "not the expected JSON")]
    [InlineData(HealthFault.EmptySeries, "empty")]
    public async Task A_failed_batch_read_is_no_data_for_every_connector_of_the_batch(HealthFault fault, string reason)
    {
        var subscription = NewSubscription();
        var apps = Enumerable.Range(0, 3).Select(_ => App(subscription, errorsBefore: 1, errorsAfter: 1)).ToList();
        _host.MetricsBatchFaults.Enqueue(fault, 10);
        try
        {
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var signal = Signal(o => o.DefaultRegion = "West Europe", time: time);
            var queries = apps.Select(a => signal.GetHealthAsync(Query(a)).AsTask()).ToList();
            time.Advance(TimeSpan.FromMilliseconds(200));
            var results = await Task.WhenAll(queries).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.All(results, r =>
            {
                Assert.Equal(HealthStatus.NoData, r.Status);
                Assert.Contains(reason, r.Reason, StringComparison.Ordinal);
            });
        }
        finally
        {
            while (_host.MetricsBatchFaults.Count > 0)
            {
                _host.MetricsBatchFaults.TryTake(out _);
            }
        }
    }

    [Fact]
    public async Task GetBatch_groups_a_waves_queries_by_subscription_and_region_with_at_most_50_ids_a_call()
    {
        var (subA, subB) = (NewSubscription(), NewSubscription());
        var apps = new List<AppServiceApp>();
        apps.AddRange(Enumerable.Range(0, 60).Select(_ => App(subA, errorsBefore: 1, errorsAfter: 1, region: "westeurope")));
        apps.AddRange(Enumerable.Range(0, 10).Select(_ => App(subA, errorsBefore: 1, errorsAfter: 1, region: "northeurope")));
        apps.AddRange(Enumerable.Range(0, 50).Select(_ => App(subB, errorsBefore: 1, errorsAfter: 30, region: "westeurope")));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var signal = Signal(configure: null, time: time);

        // As the gate asks: one query per connector, all at once; the window closes on the fake clock.
        var queries = apps.Select(a => signal.GetHealthAsync(Query(a, tagRegion: a.Health.Region == "westeurope" ? "West Europe" : "northeurope")).AsTask()).ToList();
        await _host.WaitForHostAsync(() => _host.RequestLog.Count(r => r.Route == AppServiceRoute.MetricsBatch && (r.Path.Contains(subA, StringComparison.Ordinal) || r.Path.Contains(subB, StringComparison.Ordinal))) == 2, "the two full batches, sent without waiting for the window");
        time.Advance(TimeSpan.FromMilliseconds(200));
        var results = await Task.WhenAll(queries).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(results.Take(70), r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.All(results.Skip(70), r => Assert.Equal(HealthStatus.Unhealthy, r.Status));
        var batches = _host.RequestLog.Where(r => r.Route == AppServiceRoute.MetricsBatch && (r.Path.Contains(subA, StringComparison.Ordinal) || r.Path.Contains(subB, StringComparison.Ordinal))).ToList();
        Assert.All(batches, b =>
        {
            Assert.Equal(200, b.StatusCode);
            Assert.Equal("POST", b.Method);
            Assert.Equal("https://metrics.monitor.azure.com", b.TokenAudience);
            Assert.Contains("/metrics:getBatch?api-version=2023-10-01&metricnamespace=Microsoft.Web%2Fsites&metricnames=Http5xx,Requests&starttime=2026-03-01T09%3A50%3A00Z&endtime=2026-03-01T10%3A10%3A00Z&interval=PT1M&aggregation=Total", b.Path, StringComparison.Ordinal);
        });
        Assert.Equal(2, batches.Count(b => b.Path.Contains(subA, StringComparison.Ordinal) && b.Host.StartsWith("westeurope.", StringComparison.Ordinal)));
        Assert.Equal(1, batches.Count(b => b.Path.Contains(subA, StringComparison.Ordinal) && b.Host.StartsWith("northeurope.", StringComparison.Ordinal)));
        Assert.Equal(1, batches.Count(b => b.Path.Contains(subB, StringComparison.Ordinal) && b.Host.StartsWith("westeurope.", StringComparison.Ordinal)));
        Assert.DoesNotContain(_host.RequestLog, r => r.Route == AppServiceRoute.Metrics && apps.Any(a => a.Name == r.App));
    }

    private AppServiceApp App(string subscription, double errorsBefore, double errorsAfter, double requestsPerMinute = 100, string volumeMetric = "Requests", string region = "westeurope")
    {
        var app = _host.AddApp(subscription, "rg", "mx-" + Guid.NewGuid().ToString("N")[..10]);
        app.Health.Region = region;
        app.Health.SetMetric(volumeMetric, Since.AddMinutes(-30), Until, requestsPerMinute);
        app.Health.SetMetric("Http5xx", Since.AddMinutes(-30), Since, errorsBefore);
        app.Health.SetMetric("Http5xx", Since, Until, errorsAfter);
        return app;
    }

    private static HealthQuery Query(AppServiceApp app, string? tagRegion = null) =>
        new(Target(app) with { Tags = tagRegion is null ? null : new Dictionary<string, string> { ["region"] = tagRegion } }, BuildNumber.Parse("7"), Since, Until);

    private AzureMonitorMetricsSignal Signal(Action<AzureMonitorMetricsSignalOptions>? configure, FakeLogger<AzureMonitorMetricsSignal>? logger = null, TimeProvider? time = null)
    {
        var options = new AzureMonitorMetricsSignalOptions { MetricsBatchEndpoint = _host.MetricsBatchEndpointTemplate };
        Configure(options, _host);
        configure?.Invoke(options);
        return new AzureMonitorMetricsSignal(Options.Create(options), _host.Credential, time, logger);
    }
}
