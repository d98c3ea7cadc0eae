using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>Options of the Azure Monitor metrics signal (<c>AddAzureMonitorMetricsSignal</c>).</summary>
/// <remarks>
/// The signal compares the error ratio (<see cref="ErrorMetric"/> over <see cref="VolumeMetric"/>) of the window after the
/// wave's verification with the same-length window before it, the connector's own baseline. The inherited ARM settings
/// (<see cref="AppServiceOptions.ArmEndpoint"/>, retries, timeouts) apply to the per-app read and, except the endpoint, to
/// the batch read.
/// </remarks>
public sealed class AzureMonitorMetricsSignalOptions : AppServiceOptions
{
    /// <summary>The Microsoft.Insights metrics API version, <c>2023-10-01</c> (the per-resource and the batch API).</summary>
    public const string DefaultMetricsApiVersion = "2023-10-01";

    /// <summary>The batch endpoint of Azure Monitor, per region: <c>https://{region}.metrics.monitor.azure.com</c>.</summary>
    public const string DefaultMetricsBatchEndpoint = "https://{region}.metrics.monitor.azure.com";

    /// <summary>The token scope of the batch endpoint, <c>https://metrics.monitor.azure.com/.default</c>.</summary>
    public const string DefaultMetricsScope = "https://metrics.monitor.azure.com/.default";

    /// <summary>Creates the options with the signal's defaults (2 retries, 30 s network timeout: a health read is not worth a long wait).</summary>
    public AzureMonitorMetricsSignalOptions()
    {
        MaxRetries = 2;
        NetworkTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>Gets or sets the metrics API version.</summary>
    /// <value>The default is <see cref="DefaultMetricsApiVersion"/>.</value>
    [Required(ErrorMessage = "MetricsApiVersion is required (e.g. 2023-10-01).")]
    [RegularExpression(@"^\d{4}-\d{2}-\d{2}(-preview)?$", ErrorMessage = "MetricsApiVersion must look like 2023-10-01 (optionally with -preview).")]
    public string MetricsApiVersion { get; set; } = DefaultMetricsApiVersion;

    /// <summary>Gets or sets the metric counting failures.</summary>
    /// <value>The default is <c>Http5xx</c>.</value>
    [Required(ErrorMessage = "ErrorMetric is required (e.g. Http5xx).")]
    public string ErrorMetric { get; set; } = "Http5xx";

    /// <summary>Gets or sets the metric counting all work: <c>Requests</c>, or <c>FunctionExecutionCount</c> for event-driven connectors where the plan reports it.</summary>
    /// <value>The default is <c>Requests</c>.</value>
    [Required(ErrorMessage = "VolumeMetric is required (e.g. Requests or FunctionExecutionCount).")]
    public string VolumeMetric { get; set; } = "Requests";

    /// <summary>Gets or sets the fewest <see cref="VolumeMetric"/> counts the window after the deploy needs; fewer (or an empty series) is no data, never healthy.</summary>
    /// <value>The default is 50.</value>
    [Range(1, 100_000_000, ErrorMessage = "MinimumSample must be between 1 and 100000000.")]
    public int MinimumSample { get; set; } = 50;

    /// <summary>
    /// Gets or sets how much the error ratio may rise over the baseline (an absolute ratio: 0.02 is two percentage points).
    /// A baseline with fewer than <see cref="MinimumSample"/> counts is taken as a ratio of 0.
    /// </summary>
    /// <value>The default is 0.02.</value>
    [Range(0.0, 1.0, ErrorMessage = "MaxErrorRatioIncrease must be between 0 and 1.")]
    public double MaxErrorRatioIncrease { get; set; } = 0.02;

    /// <summary>Gets or sets a value indicating whether connectors of one subscription and region are read together through the batch endpoint (up to 50 a call).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseBatch { get; set; } = true;

    /// <summary>Gets or sets the batch endpoint template; <c>{region}</c> is replaced by the connector's region. Tests point it at a loopback host.</summary>
    /// <value>The default is <see cref="DefaultMetricsBatchEndpoint"/>.</value>
    [Required(ErrorMessage = "MetricsBatchEndpoint is required (e.g. https://{region}.metrics.monitor.azure.com).")]
    public string MetricsBatchEndpoint { get; set; } = DefaultMetricsBatchEndpoint;

    /// <summary>Gets or sets the token scope of the batch endpoint.</summary>
    /// <value>The default is <see cref="DefaultMetricsScope"/>.</value>
    [Required(ErrorMessage = "MetricsScope is required (e.g. https://metrics.monitor.azure.com/.default).")]
    public string MetricsScope { get; set; } = DefaultMetricsScope;

    /// <summary>Gets or sets the connector tag that names its region (<c>westeurope</c>, <c>West Europe</c>, …).</summary>
    /// <value>The default is <c>region</c>.</value>
    public string? RegionTag { get; set; } = "region";

    /// <summary>Gets or sets the region of connectors whose tags name none, or <see langword="null"/>: such connectors are read one by one through ARM.</summary>
    public string? DefaultRegion { get; set; }

    /// <summary>
    /// Gets or sets how long the first query of a batch waits for others of the same subscription, region and window.
    /// The gate asks about its wave's connectors concurrently (up to <c>Rollout:MaxParallelism</c> at once), so a batch
    /// holds at most that many: set the parallelism to 50 or more for full batches.
    /// </summary>
    /// <value>The default is 200 ms.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "BatchWindow must be between 00:00:00 and 00:01:00.")]
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the most resources of one batch call; Azure accepts 50.</summary>
    /// <value>The default is 50.</value>
    [Range(1, 50, ErrorMessage = "MaxBatchSize must be between 1 and 50 (Azure Monitor's limit).")]
    public int MaxBatchSize { get; set; } = 50;

    /// <inheritdoc/>
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        if (MetricsBatchEndpoint is not null
            && (!MetricsBatchEndpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                || !Uri.TryCreate(MetricsBatchEndpoint.Replace("{region}", "region", StringComparison.Ordinal), UriKind.Absolute, out _)))
        {
            yield return new ValidationResult(
                $"MetricsBatchEndpoint must be an absolute https URI template such as https://{{region}}.metrics.monitor.azure.com; got '{MetricsBatchEndpoint}'.",
                [nameof(MetricsBatchEndpoint)]);
        }

        if (string.Equals(ErrorMetric, VolumeMetric, StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("ErrorMetric and VolumeMetric must differ.", [nameof(ErrorMetric), nameof(VolumeMetric)]);
        }
    }
}

/// <summary>
/// A health signal from Azure Monitor platform metrics of the Function app: the error ratio
/// (<see cref="AzureMonitorMetricsSignalOptions.ErrorMetric"/> / <see cref="AzureMonitorMetricsSignalOptions.VolumeMetric"/>,
/// PT1M totals) of the window after the wave's verification against the same-length window before it. A rise above
/// <see cref="AzureMonitorMetricsSignalOptions.MaxErrorRatioIncrease"/> is unhealthy; an empty series or fewer counts than
/// <see cref="AzureMonitorMetricsSignalOptions.MinimumSample"/> is no data, never healthy; a failed read (429, 5xx,
/// 401/403, malformed JSON, no answer) is no data with the reason, logged.
/// </summary>
/// <remarks>
/// Reads: <c>GET {arm}{siteId}/providers/Microsoft.Insights/metrics?api-version=2023-10-01&amp;metricnames=…&amp;timespan=…&amp;interval=PT1M&amp;aggregation=Total</c>
/// one connector at a time (through the ARM pipeline, so the subscription throttle meters it), or, for connectors whose
/// region is known (<see cref="AzureMonitorMetricsSignalOptions.RegionTag"/> or <see cref="AzureMonitorMetricsSignalOptions.DefaultRegion"/>),
/// <c>POST https://{region}.metrics.monitor.azure.com/subscriptions/{sub}/metrics:getBatch</c> with up to 50 resource ids of
/// one subscription and region. The gate asks one connector at a time but concurrently; queries of the same subscription,
/// region and window that arrive within <see cref="AzureMonitorMetricsSignalOptions.BatchWindow"/> (on the
/// <see cref="TimeProvider"/>) go out as one batch, sent early when it is full.
/// </remarks>
public sealed class AzureMonitorMetricsSignal : IConnectorHealthSignal
{
    private readonly AzureMonitorMetricsSignalOptions _options;
    private readonly AppServiceArmClient _arm;
    private readonly HttpPipeline _batchPipeline;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<BatchKey, PendingBatch> _pending = [];

    /// <summary>Creates the signal.</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The credential (ARM and Azure Monitor scopes).</param>
    /// <param name="timeProvider">The clock of the batch window.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public AzureMonitorMetricsSignal(IOptions<AzureMonitorMetricsSignalOptions> options, TokenCredential credential, TimeProvider? timeProvider = null, ILogger<AzureMonitorMetricsSignal>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _options = options.Value;
        _arm = new AppServiceArmClient(_options, credential);
        _batchPipeline = AppServiceClientOptions.BuildPipeline(_options, credential, _options.MetricsScope);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<AzureMonitorMetricsSignal>.Instance;
    }

    /// <inheritdoc/>
    public string Name => "azure-monitor-metrics";

    /// <inheritdoc/>
    public async ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!HealthReads.TryParseSite(query.Connector, out var siteId, out var problem))
        {
            return HealthReads.NoData(_logger, Name, query.Connector, problem);
        }

        if (query.Until <= query.Since)
        {
            return HealthReads.NoData(_logger, Name, query.Connector, "the window after the deploy is empty");
        }

        var region = RegionOf(query.Connector);
        Outcome outcome;
        if (_options.UseBatch && region is not null)
        {
            var entry = new Entry(query, siteId, new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously));
            Enqueue(new BatchKey(siteId.SubscriptionId!.ToLowerInvariant(), region, query.Since, query.Until), entry);
            outcome = await entry.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            outcome = await ReadOneAsync(query, siteId, cancellationToken).ConfigureAwait(false);
        }

        if (outcome.Failure is not null)
        {
            return HealthReads.NoData(_logger, Name, query.Connector, outcome.Failure);
        }

        var health = Judge(outcome.Series!, query.Since, query.Until, _options);
        if (health.Status == HealthStatus.NoData)
        {
            return HealthReads.NoData(_logger, Name, query.Connector, health.Reason ?? "no data");
        }

        if (health.Status == HealthStatus.Unhealthy)
        {
            Log.HealthSignalUnhealthy(_logger, Name, query.Connector.Id, health.Reason ?? "unhealthy");
        }

        return health;
    }

    /// <summary>Judges a connector's PT1M totals: the window after against the same-length window before.</summary>
    internal static ConnectorHealth Judge(IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset At, double? Total)>> series, DateTimeOffset since, DateTimeOffset until, AzureMonitorMetricsSignalOptions options)
    {
        if (!series.TryGetValue(options.VolumeMetric, out var volume) || !series.TryGetValue(options.ErrorMetric, out var errors))
        {
            return new ConnectorHealth(HealthStatus.NoData, $"the answer has no {options.VolumeMetric} or {options.ErrorMetric} series");
        }

        var start = Floor(since);
        var (volumeAfter, volumeAfterPoints) = Sum(volume, start, until);
        var (errorsAfter, errorsAfterPoints) = Sum(errors, start, until);
        if (volumeAfterPoints == 0 || errorsAfterPoints == 0)
        {
            return new ConnectorHealth(HealthStatus.NoData, $"empty {(volumeAfterPoints == 0 ? options.VolumeMetric : options.ErrorMetric)} series after the deploy");
        }

        if (volumeAfter < options.MinimumSample)
        {
            return new ConnectorHealth(HealthStatus.NoData, Invariant($"{volumeAfter:0} {options.VolumeMetric} after the deploy, fewer than the minimum sample of {options.MinimumSample}"));
        }

        var before = BaselineStart(start, until);
        var (volumeBefore, _) = Sum(volume, before, start);
        var (errorsBefore, _) = Sum(errors, before, start);
        var ratioAfter = errorsAfter / volumeAfter;
        var baselineKnown = volumeBefore >= options.MinimumSample;
        var ratioBefore = baselineKnown ? errorsBefore / volumeBefore : 0;
        var rise = ratioAfter - ratioBefore;
        var detail = Invariant($"{options.ErrorMetric}/{options.VolumeMetric} {ratioAfter:P1} after the deploy ({errorsAfter:0} of {volumeAfter:0}) against {(baselineKnown ? $"{ratioBefore:P1} before" : "no baseline (too few before)")}");
        return rise > options.MaxErrorRatioIncrease
            ? new ConnectorHealth(HealthStatus.Unhealthy, Invariant($"{detail}: a rise of {rise:P1}, more than the {options.MaxErrorRatioIncrease:P1} allowed"))
            : new ConnectorHealth(HealthStatus.Healthy, detail);
    }

    private static (double Total, int Points) Sum(IReadOnlyList<(DateTimeOffset At, double? Total)> points, DateTimeOffset from, DateTimeOffset until)
    {
        double total = 0;
        var count = 0;
        foreach (var (at, value) in points)
        {
            if (at >= from && at < until && value is { } v)
            {
                total += v;
                count++;
            }
        }

        return (total, count);
    }

    private static DateTimeOffset Floor(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The request window: the same length before the deploy as after it.</summary>
    private static (DateTimeOffset Start, DateTimeOffset End) Window(HealthQuery query) =>
        (BaselineStart(Floor(query.Since), query.Until), query.Until);

    /// <summary>The baseline starts as many whole minutes before the deploy as the window after it spans (at least one: PT1M points).</summary>
    private static DateTimeOffset BaselineStart(DateTimeOffset start, DateTimeOffset until) =>
        start - TimeSpan.FromMinutes(Math.Max(1, Math.Ceiling((until - start).TotalMinutes)));

    private string? RegionOf(ConnectorTarget connector)
    {
        var region = _options.RegionTag is { } tag && connector.Tags is { } tags && tags.TryGetValue(tag, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : _options.DefaultRegion;
        return region is null ? null : new string([.. region.Where(c => !char.IsWhiteSpace(c))]).ToLowerInvariant();
    }

    private string MetricNames => Uri.EscapeDataString(_options.ErrorMetric) + "," + Uri.EscapeDataString(_options.VolumeMetric);

    private async Task<Outcome> ReadOneAsync(HealthQuery query, ResourceIdentifier siteId, CancellationToken cancellationToken)
    {
        var (start, end) = Window(query);
        var parameters = "api-version=" + Uri.EscapeDataString(_options.MetricsApiVersion)
            + "&metricnames=" + MetricNames
            + "&timespan=" + Uri.EscapeDataString(Iso(start) + "/" + Iso(end))
            + "&interval=PT1M&aggregation=Total";
        try
        {
            using var message = await _arm.GetAsync(siteId.ToString(), "/providers/Microsoft.Insights/metrics", parameters, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            if (response.Status == 404)
            {
                return Outcome.Failed("the site was not found (404)");
            }

            if (response.IsError)
            {
                return Outcome.Failed(HealthReads.DescribeStatus(response));
            }

            using var document = JsonDocument.Parse(response.Content.ToMemory());
            return document.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array
                ? Outcome.Read(ParseMetrics(value))
                : Outcome.Failed("the answer has no metric values");
        }
        catch (Exception ex) when (HealthReads.IsReadFailure(ex, cancellationToken))
        {
            return Outcome.Failed(HealthReads.Describe(ex));
        }
    }

    private void Enqueue(BatchKey key, Entry entry)
    {
        PendingBatch? full = null;
        lock (_lock)
        {
            if (!_pending.TryGetValue(key, out var batch))
            {
                batch = new PendingBatch(key);
                _pending[key] = batch;
                batch.Timer = _time.CreateTimer(static state => ((AzureMonitorMetricsSignal)((object[])state!)[0]).Flush((PendingBatch)((object[])state)[1]), new object[] { this, batch }, _options.BatchWindow, Timeout.InfiniteTimeSpan);
            }

            batch.Entries.Add(entry);
            if (batch.Entries.Count >= _options.MaxBatchSize)
            {
                _pending.Remove(key);
                full = batch;
            }
        }

        if (full is not null)
        {
            Send(full);
        }
    }

    private void Flush(PendingBatch batch)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(batch.Key, out var current) || !ReferenceEquals(current, batch))
            {
                return;
            }

            _pending.Remove(batch.Key);
        }

        Send(batch);
    }

    private void Send(PendingBatch batch)
    {
        batch.Timer?.Dispose();
        _ = Task.Run(() => SendAsync(batch));
    }

    private async Task SendAsync(PendingBatch batch)
    {
        var key = batch.Key;
        var entries = batch.Entries;
        var (start, end) = Window(entries[0].Query);
        var uri = _options.MetricsBatchEndpoint.Replace("{region}", key.Region, StringComparison.Ordinal).TrimEnd('/')
            + "/subscriptions/" + Uri.EscapeDataString(key.Subscription) + "/metrics:getBatch"
            + "?api-version=" + Uri.EscapeDataString(_options.MetricsApiVersion)
            + "&metricnamespace=" + Uri.EscapeDataString("Microsoft.Web/sites")
            + "&metricnames=" + MetricNames
            + "&starttime=" + Uri.EscapeDataString(Iso(start))
            + "&endtime=" + Uri.EscapeDataString(Iso(end))
            + "&interval=PT1M&aggregation=Total";
        var started = Stopwatch.GetTimestamp();
        var status = 0;
        try
        {
            using var body = new MemoryStream();
            using (var writer = new Utf8JsonWriter(body))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("resourceids");
                foreach (var entry in entries)
                {
                    writer.WriteStringValue(entry.SiteId.ToString());
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            using var message = _batchPipeline.CreateMessage();
            message.Request.Method = RequestMethod.Post;
            message.Request.Uri.Reset(new Uri(uri));
            message.Request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
            message.Request.Headers.SetValue(HttpHeader.Names.ContentType, "application/json");
            message.Request.Content = RequestContent.Create(new BinaryData(body.ToArray()));
            await _batchPipeline.SendAsync(message, CancellationToken.None).ConfigureAwait(false);
            var response = message.Response;
            status = response.Status;
            if (response.IsError)
            {
                Complete(entries, Outcome.Failed("the metrics batch read: " + HealthReads.DescribeStatus(response)));
                return;
            }

            var bySite = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset, double?)>>>(StringComparer.OrdinalIgnoreCase);
            using (var document = JsonDocument.Parse(response.Content.ToMemory()))
            {
                if (!document.RootElement.TryGetProperty("values", out var values) || values.ValueKind != JsonValueKind.Array)
                {
                    throw new JsonException("The batch answer has no 'values' array.");
                }

                foreach (var resource in values.EnumerateArray())
                {
                    if (resource.TryGetProperty("resourceid", out var id) && id.ValueKind == JsonValueKind.String
                        && resource.TryGetProperty("value", out var metrics) && metrics.ValueKind == JsonValueKind.Array)
                    {
                        bySite[id.GetString()!.TrimEnd('/')] = ParseMetrics(metrics);
                    }
                }
            }

            foreach (var entry in entries)
            {
                entry.Result.TrySetResult(bySite.TryGetValue(entry.SiteId.ToString(), out var series)
                    ? Outcome.Read(series)
                    : Outcome.Failed("the metrics batch answer does not name the site"));
            }
        }
        catch (Exception ex) when (HealthReads.IsReadFailure(ex, CancellationToken.None) || ex is UriFormatException)
        {
            Complete(entries, Outcome.Failed("the metrics batch read: " + HealthReads.Describe(ex)));
        }
        finally
        {
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Log.MetricsBatchRead(_logger, key.Subscription, key.Region, entries.Count, status, elapsedMs);
        }
    }

    private static void Complete(List<Entry> entries, Outcome outcome)
    {
        foreach (var entry in entries)
        {
            entry.Result.TrySetResult(outcome);
        }
    }

    /// <summary>Reads a <c>value</c> array of metrics (name → PT1M totals); a metric with an empty <c>timeseries</c> has no points.</summary>
    private static Dictionary<string, IReadOnlyList<(DateTimeOffset At, double? Total)>> ParseMetrics(JsonElement metrics)
    {
        var result = new Dictionary<string, IReadOnlyList<(DateTimeOffset, double?)>>(StringComparer.OrdinalIgnoreCase);
        foreach (var metric in metrics.EnumerateArray())
        {
            if (!metric.TryGetProperty("name", out var name) || !name.TryGetProperty("value", out var nameValue) || nameValue.ValueKind != JsonValueKind.String)
            {
                throw new JsonException("A metric has no name.value.");
            }

            var points = new List<(DateTimeOffset, double?)>();
            if (metric.TryGetProperty("timeseries", out var timeseries) && timeseries.ValueKind == JsonValueKind.Array)
            {
                foreach (var series in timeseries.EnumerateArray())
                {
                    if (!series.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                    {
                        continue;
                    }

                    foreach (var point in data.EnumerateArray())
                    {
                        var at = point.GetProperty("timeStamp").GetDateTimeOffset();
                        double? total = point.TryGetProperty("total", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
                        points.Add((at, total));
                    }
                }
            }

            result[nameValue.GetString()!] = points;
        }

        return result;
    }

    private readonly record struct BatchKey(string Subscription, string Region, DateTimeOffset Since, DateTimeOffset Until);

    private sealed record Entry(HealthQuery Query, ResourceIdentifier SiteId, TaskCompletionSource<Outcome> Result);

    private sealed class PendingBatch(BatchKey key)
    {
        public BatchKey Key { get; } = key;

        public List<Entry> Entries { get; } = [];

        public ITimer? Timer { get; set; }
    }

    private sealed record Outcome(IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset At, double? Total)>>? Series, string? Failure)
    {
        public static Outcome Read(IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset At, double? Total)>> series) => new(series, null);

        public static Outcome Failed(string reason) => new(null, reason);
    }
}
