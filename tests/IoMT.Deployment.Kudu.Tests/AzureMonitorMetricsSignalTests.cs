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
    [InlineData(HealthFault.UnexpectedShape, "not the expected JSON")]
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
    [InlineData(HealthFault.UnexpectedShape, "not the expected JSON")]
    [InlineData(HealthFault.EmptySeries, "empty")]
    public async Task A_failed_batch_read_is_no_data_for_every_connector_of_the_batch(HealthFault fault, string reason)
    {
        var subscription = NewSubscription();
        var apps = Enumerable.Range(0, 3).Select(_ => App(subscription, errorsBefore: 1, errorsAfter: 1)).ToList();
        _host.MetricsBatchFaults.Enqueue(fault, 10);
        try
        {
            var time = new SignallingTimeProvider();
            var signal = Signal(o => o.DefaultRegion = "West Europe", time: time);
            var queries = apps.Select(a => signal.GetHealthAsync(Query(a)).AsTask()).ToList();

            // The batch window, then each retry of the failed batch (Retry-After 1 s at most), waits on the clock.
            var all = Task.WhenAll(queries);
            await time.AdvanceOnEveryWaitAsync(all, TimeSpan.FromSeconds(1));
            var results = await all;

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

    [Fact]
    public async Task A_fleet_wide_incident_is_healthy_when_the_not_yet_updated_peers_show_the_same_ratio()
    {
        var peers = Peers(NewSubscription(), 3, errorsBefore: 1, errorsAfter: 30);
        var subscription = NewSubscription();
        var steadyHigh = App(subscription, errorsBefore: 30, errorsAfter: 30);
        var risingWithFleet = App(subscription, errorsBefore: 1, errorsAfter: 30);
        var signal = Signal(o => o.UseBatch = false);

        var steady = await signal.GetHealthAsync(Query(steadyHigh) with { Peers = peers });
        var rising = await signal.GetHealthAsync(Query(risingWithFleet) with { Peers = peers });
        var risingAlone = await Signal(o => o.UseBatch = false).GetHealthAsync(Query(risingWithFleet));

        Assert.Equal(HealthStatus.Healthy, steady.Status);
        Assert.Contains("30.0 % after the deploy (300 of 1000) against 30.0 % before; the not-yet-updated peers 30.0 % (900 of 3000 from 3 of 3 peers), 1.0 % before", steady.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, rising.Status);
        Assert.Contains("a rise of 29.0 % the fleet shares (29.0 %)", rising.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, risingAlone.Status);
    }

    [Fact]
    public async Task A_ratio_steady_against_its_own_baseline_but_far_above_the_peers_is_unhealthy()
    {
        var peers = Peers(NewSubscription(), 3, errorsBefore: 1, errorsAfter: 1);
        var app = App(NewSubscription(), errorsBefore: 30, errorsAfter: 30);
        var logger = new FakeLogger<AzureMonitorMetricsSignal>();

        var health = await Signal(o => o.UseBatch = false, logger).GetHealthAsync(Query(app) with { Peers = peers });
        var withoutFleet = await Signal(o =>
        {
            o.UseBatch = false;
            o.CompareWithFleet = false;
        }).GetHealthAsync(Query(app) with { Peers = peers });
        var tolerant = await Signal(o =>
        {
            o.UseBatch = false;
            o.MaxErrorRatioRiseOverFleet = 0.5;
        }).GetHealthAsync(Query(app) with { Peers = peers });

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("30.0 % after the deploy (300 of 1000) against 30.0 % before; the not-yet-updated peers 1.0 % (30 of 3000 from 3 of 3 peers), 1.0 % before: 29.0 % above the fleet, more than the 2.0 % allowed", health.Reason, StringComparison.Ordinal);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 4041);
        Assert.Equal(HealthStatus.Healthy, withoutFleet.Status);
        Assert.DoesNotContain("peers", withoutFleet.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Healthy, tolerant.Status);
    }

    [Fact]
    public async Task Too_few_peer_samples_skip_the_fleet_comparison_and_the_own_baseline_decides()
    {
        var quietPeers = Peers(NewSubscription(), 2, errorsBefore: 0, errorsAfter: 0, requestsPerMinute: 1);
        var subscription = NewSubscription();
        var steady = App(subscription, errorsBefore: 30, errorsAfter: 30);
        var rising = App(subscription, errorsBefore: 1, errorsAfter: 30);
        var empty = App(subscription, errorsBefore: 1, errorsAfter: 1);
        empty.Health.Faults.Enqueue(HealthFault.EmptySeries);
        var signal = Signal(o => o.UseBatch = false);

        var steadyHealth = await signal.GetHealthAsync(Query(steady) with { Peers = quietPeers });
        var risingHealth = await signal.GetHealthAsync(Query(rising) with { Peers = quietPeers });
        var emptyHealth = await signal.GetHealthAsync(Query(empty) with { Peers = Peers(NewSubscription(), 2, errorsBefore: 1, errorsAfter: 1) });

        Assert.Equal(HealthStatus.Healthy, steadyHealth.Status);
        Assert.Contains("fleet comparison skipped: 20 Requests from 2 of 2 peers, fewer than the minimum sample of 50", steadyHealth.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Unhealthy, risingHealth.Status);
        Assert.Contains("fleet comparison skipped", risingHealth.Reason, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.NoData, emptyHealth.Status);
    }

    [Fact]
    public async Task The_peers_are_read_once_per_window_for_all_the_waves_connectors()
    {
        var peerSubscription = NewSubscription();
        var peers = Peers(peerSubscription, 4, errorsBefore: 1, errorsAfter: 1);
        var peerNames = peers.Select(p => p.Id).ToHashSet();
        var subscription = NewSubscription();
        var wave = Enumerable.Range(0, 3).Select(_ => App(subscription, errorsBefore: 1, errorsAfter: 1)).ToList();
        var signal = Signal(o => o.UseBatch = false);
        int PeerReads() => _host.RequestLog.Count(r => r.Route == AppServiceRoute.Metrics && r.App is { } name && peerNames.Contains(name));

        var first = await Task.WhenAll(wave.Select(a => signal.GetHealthAsync(Query(a) with { Peers = peers }).AsTask()));
        Assert.All(first, h => Assert.Equal(HealthStatus.Healthy, h.Status));
        Assert.Equal(4, PeerReads());

        var nextWindow = await Task.WhenAll(wave.Select(a => signal.GetHealthAsync(Query(a) with { Until = Until.AddMinutes(1), Peers = peers }).AsTask()));
        Assert.All(nextWindow, h => Assert.Equal(HealthStatus.Healthy, h.Status));
        Assert.Equal(8, PeerReads());
        Assert.Equal(6, _host.RequestLog.Count(r => r.Route == AppServiceRoute.Metrics && wave.Any(a => a.Name == r.App)));
    }

    [Fact]
    public async Task Peers_of_a_known_region_are_read_through_one_getBatch_call_per_window()
    {
        var peerSubscription = NewSubscription();
        var peers = Peers(peerSubscription, 5, errorsBefore: 1, errorsAfter: 1, tagRegion: "West Europe");
        var subscription = NewSubscription();
        var wave = Enumerable.Range(0, 3).Select(i => App(subscription, errorsBefore: 1, errorsAfter: i == 0 ? 30 : 1)).ToList();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var signal = Signal(o => o.DefaultRegion = "westeurope", time: time);

        var queries = wave.Select(a => signal.GetHealthAsync(Query(a) with { Peers = peers }).AsTask()).ToList();
        await _host.WaitForHostAsync(() => _host.RequestLog.Any(r => r.Route == AppServiceRoute.MetricsBatch && r.Path.Contains(peerSubscription, StringComparison.Ordinal) && r.StatusCode != 0), "the peers' batch read, sent without waiting for the window");
        time.Advance(TimeSpan.FromMilliseconds(200));
        var results = await Task.WhenAll(queries).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HealthStatus.Unhealthy, results[0].Status);
        Assert.Contains("from 5 of 5 peers", results[0].Reason, StringComparison.Ordinal);
        Assert.All(results.Skip(1), r => Assert.Equal(HealthStatus.Healthy, r.Status));
        var peerBatch = Assert.Single(_host.RequestLog, r => r.Route == AppServiceRoute.MetricsBatch && r.Path.Contains(peerSubscription, StringComparison.Ordinal));
        Assert.Equal(200, peerBatch.StatusCode);
        Assert.Single(_host.RequestLog, r => r.Route == AppServiceRoute.MetricsBatch && r.Path.Contains(subscription, StringComparison.Ordinal));
        Assert.DoesNotContain(_host.RequestLog, r => r.Route == AppServiceRoute.Metrics && (r.Path.Contains(peerSubscription, StringComparison.Ordinal) || r.Path.Contains(subscription, StringComparison.Ordinal)));
    }

    private List<ConnectorTarget> Peers(string subscription, int count, double errorsBefore, double errorsAfter, double requestsPerMinute = 100, string? tagRegion = null) =>
        [.. Enumerable.Range(0, count).Select(_ => Query(App(subscription, errorsBefore, errorsAfter, requestsPerMinute), tagRegion).Connector)];

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
