using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using IoMT.Deployment.Composition;
using static IoMT.Deployment.Composition.DeploymentOptionsValidation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>Options of the Azure Monitor metrics signal (<c>AddAzureMonitorMetricsSignal</c>).</summary>
/// <remarks>
/// The signal compares the error ratio (<see cref="ErrorMetric"/> over <see cref="VolumeMetric"/>) of the window after the
/// wave's verification with the same-length window before it, the connector's own baseline, and (<see cref="CompareWithFleet"/>)
/// with the same window of the not-yet-updated connectors the gate names (<see cref="HealthQuery.Peers"/>). The inherited ARM settings
/// (<see cref="AppServiceOptions.ArmEndpoint"/>, retries, timeouts) apply to the per-app read and, except the endpoint, to
/// the batch read.
/// </remarks>
[OptionsSection(SectionName)]
public sealed class AzureMonitorMetricsSignalOptions : AppServiceOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Gates:Metrics";

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
    [Required(ErrorMessage = "{0} is required (e.g. 2023-10-01).")]
    [RegularExpression(@"^\d{4}-\d{2}-\d{2}(-preview)?$", ErrorMessage = "{0} must look like 2023-10-01 (optionally with -preview).")]
    public string MetricsApiVersion { get; set; } = DefaultMetricsApiVersion;

    /// <summary>Gets or sets the metric counting failures.</summary>
    /// <value>The default is <c>Http5xx</c>.</value>
    [Required(ErrorMessage = "{0} is required (e.g. Http5xx).")]
    public string ErrorMetric { get; set; } = "Http5xx";

    /// <summary>Gets or sets the metric counting all work: <c>Requests</c>, or <c>FunctionExecutionCount</c> for event-driven connectors where the plan reports it.</summary>
    /// <value>The default is <c>Requests</c>.</value>
    [Required(ErrorMessage = "{0} is required (e.g. Requests or FunctionExecutionCount).")]
    public string VolumeMetric { get; set; } = "Requests";

    /// <summary>Gets or sets the fewest <see cref="VolumeMetric"/> counts the window after the deploy needs; fewer (or an empty series) is no data, never healthy.</summary>
    /// <value>The default is 50.</value>
    [Range(1, 100_000_000, ErrorMessage = "{0} must be between 1 and 100000000.")]
    public int MinimumSample { get; set; } = 50;

    /// <summary>
    /// Gets or sets how much the error ratio may rise over the baseline (an absolute ratio: 0.02 is two percentage points).
    /// A baseline with fewer than <see cref="MinimumSample"/> counts is taken as a ratio of 0.
    /// </summary>
    /// <value>The default is 0.02.</value>
    [Range(0.0, 1.0, ErrorMessage = "{0} must be between 0 and 1.")]
    public double MaxErrorRatioIncrease { get; set; } = 0.02;

    /// <summary>
    /// Gets or sets a value indicating whether the connector is also compared with the not-yet-updated connectors of the
    /// fleet the gate names (<see cref="HealthQuery.Peers"/>): their aggregate error ratio over the same window, read once
    /// per window for all the wave's connectors.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool CompareWithFleet { get; set; } = true;

    /// <summary>
    /// Gets or sets how far the connector's error ratio after the deploy may exceed the peers' aggregate ratio over the same
    /// window (an absolute ratio). Peers with fewer than <see cref="MinimumSample"/> counts together skip the comparison.
    /// </summary>
    /// <value>The default is 0.02, the same as <see cref="MaxErrorRatioIncrease"/>.</value>
    [Range(0.0, 1.0, ErrorMessage = "{0} must be between 0 and 1.")]
    public double MaxErrorRatioRiseOverFleet { get; set; } = 0.02;

    /// <summary>Gets or sets a value indicating whether connectors of one subscription and region are read together through the batch endpoint (up to 50 a call).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseBatch { get; set; } = true;

    /// <summary>Gets or sets the batch endpoint template; <c>{region}</c> is replaced by the connector's region. Tests point it at a loopback host.</summary>
    /// <value>The default is <see cref="DefaultMetricsBatchEndpoint"/>.</value>
    [Required(ErrorMessage = "{0} is required (e.g. https://{{region}}.metrics.monitor.azure.com).")]
    public string MetricsBatchEndpoint { get; set; } = DefaultMetricsBatchEndpoint;

    /// <summary>Gets or sets the token scope of the batch endpoint.</summary>
    /// <value>The default is <see cref="DefaultMetricsScope"/>.</value>
    [Required(ErrorMessage = "{0} is required (e.g. https://metrics.monitor.azure.com/.default).")]
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
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "{0} must be between 00:00:00 and 00:01:00.")]
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the most resources of one batch call; Azure accepts 50.</summary>
    /// <value>The default is 50.</value>
    [Range(1, 50, ErrorMessage = "{0} must be between 1 and 50 (Azure Monitor's limit).")]
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
                $"{Key(validationContext, nameof(MetricsBatchEndpoint))} must be an absolute https URI template such as https://{{region}}.metrics.monitor.azure.com; got '{MetricsBatchEndpoint}'.",
                [nameof(MetricsBatchEndpoint)]);
        }

        if (string.Equals(ErrorMetric, VolumeMetric, StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(ErrorMetric))} and {Key(validationContext, nameof(VolumeMetric))} must differ.", [nameof(ErrorMetric), nameof(VolumeMetric)]);
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
/// <para>
/// The fleet comparison (<see cref="AzureMonitorMetricsSignalOptions.CompareWithFleet"/>, when the query names
/// <see cref="HealthQuery.Peers"/>): the peers' metrics over the same request window are summed into one error ratio after
/// the deploy and one before it, read once per window (cached; every connector of the wave shares the read, batched like
/// the connector's own). The rule: the connector's own window after the deploy must hold data (else no data, whatever the
/// peers say); it is unhealthy when its ratio exceeds the peers' by more than
/// <see cref="AzureMonitorMetricsSignalOptions.MaxErrorRatioRiseOverFleet"/>, or when it rose over its own baseline by more
/// than <see cref="AzureMonitorMetricsSignalOptions.MaxErrorRatioIncrease"/> unless the peers rose as much over theirs in
/// the same window (a fleet-wide incident, not the build). Peers with fewer than
/// <see cref="AzureMonitorMetricsSignalOptions.MinimumSample"/> counts in total (or whose read failed) skip the fleet
/// comparison and the own-baseline rule applies alone; the reason says so.
/// </para>
/// <para>
/// Reads: <c>GET {arm}{siteId}/providers/Microsoft.Insights/metrics?api-version=2023-10-01&amp;metricnames=…&amp;timespan=…&amp;interval=PT1M&amp;aggregation=Total</c>
/// one connector at a time (through the ARM pipeline, so the subscription throttle meters it), or, for connectors whose
/// region is known (<see cref="AzureMonitorMetricsSignalOptions.RegionTag"/> or <see cref="AzureMonitorMetricsSignalOptions.DefaultRegion"/>),
/// <c>POST https://{region}.metrics.monitor.azure.com/subscriptions/{sub}/metrics:getBatch</c> with up to 50 resource ids of
/// one subscription and region. The gate asks one connector at a time but concurrently; queries of the same subscription,
/// region and window that arrive within <see cref="AzureMonitorMetricsSignalOptions.BatchWindow"/> (on the
/// <see cref="TimeProvider"/>) go out as one batch, sent early when it is full.
/// </para>
/// </remarks>
public sealed class AzureMonitorMetricsSignal : IConnectorHealthSignal
{
    /// <summary>How many fleet reads (gate windows) the signal keeps; a gate evaluation uses one.</summary>
    private const int MaxFleetWindows = 8;

    private readonly AzureMonitorMetricsSignalOptions _options;
    private readonly AppServiceArmClient _arm;
    private readonly HttpPipeline _batchPipeline;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<BatchKey, PendingBatch> _pending = [];
    private readonly Dictionary<FleetKey, Task<FleetSample>> _fleet = [];
    private readonly Queue<FleetKey> _fleetOrder = new();

    /// <summary>Creates the signal.</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The credential (ARM and Azure Monitor scopes).</param>
    /// <param name="timeProvider">The clock of the batch window and of retry delays; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public AzureMonitorMetricsSignal(IOptions<AzureMonitorMetricsSignalOptions> options, TokenCredential credential, TimeProvider? timeProvider = null, ILogger<AzureMonitorMetricsSignal>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _options = options.Value;
        DeploymentOptionsValidation.ThrowIfInvalid(_options);
        _time = timeProvider ?? TimeProvider.System;
        _arm = new AppServiceArmClient(_options, credential, _time);
        _batchPipeline = AppServiceClientOptions.BuildPipeline(_options, credential, _options.MetricsScope, _time);
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

        var fleetRead = _options.CompareWithFleet && query.Peers.Count > 0 ? FleetOf(query) : null;
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

        var fleet = fleetRead is null ? null : await fleetRead.WaitAsync(cancellationToken).ConfigureAwait(false);
        var health = Judge(outcome.Series!, query.Since, query.Until, _options, fleet);
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

    /// <summary>
    /// Judges a connector's PT1M totals: the window after against the same-length window before and, when given, against
    /// the peers' aggregate over the same window (the rule of the type's remarks).
    /// </summary>
    internal static ConnectorHealth Judge(IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset At, double? Total)>> series, DateTimeOffset since, DateTimeOffset until, AzureMonitorMetricsSignalOptions options, FleetSample? fleet = null)
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
        if (fleet is null)
        {
            return rise > options.MaxErrorRatioIncrease
                ? new ConnectorHealth(HealthStatus.Unhealthy, Invariant($"{detail}: a rise of {rise:P1}, more than the {options.MaxErrorRatioIncrease:P1} allowed"))
                : new ConnectorHealth(HealthStatus.Healthy, detail);
        }

        if (fleet.VolumeAfter < options.MinimumSample)
        {
            var skipped = Invariant($"{detail}; fleet comparison skipped: {fleet.VolumeAfter:0} {options.VolumeMetric} from {fleet.Read} of {fleet.Peers} peers, fewer than the minimum sample of {options.MinimumSample}");
            return rise > options.MaxErrorRatioIncrease
                ? new ConnectorHealth(HealthStatus.Unhealthy, Invariant($"{skipped}: a rise of {rise:P1}, more than the {options.MaxErrorRatioIncrease:P1} allowed"))
                : new ConnectorHealth(HealthStatus.Healthy, skipped);
        }

        var fleetAfter = fleet.ErrorsAfter / fleet.VolumeAfter;
        var fleetBaselineKnown = fleet.VolumeBefore >= options.MinimumSample;
        var fleetBefore = fleetBaselineKnown ? fleet.ErrorsBefore / fleet.VolumeBefore : 0;
        var excess = ratioAfter - fleetAfter;
        var withFleet = Invariant($"{detail}; the not-yet-updated peers {fleetAfter:P1} ({fleet.ErrorsAfter:0} of {fleet.VolumeAfter:0} from {fleet.Read} of {fleet.Peers} peers){(fleetBaselineKnown ? $", {fleetBefore:P1} before" : string.Empty)}");
        if (excess > options.MaxErrorRatioRiseOverFleet)
        {
            return new ConnectorHealth(HealthStatus.Unhealthy, Invariant($"{withFleet}: {excess:P1} above the fleet, more than the {options.MaxErrorRatioRiseOverFleet:P1} allowed"));
        }

        if (rise > options.MaxErrorRatioIncrease)
        {
            var fleetRise = fleetAfter - fleetBefore;
            return fleetBaselineKnown && rise - fleetRise <= options.MaxErrorRatioIncrease
                ? new ConnectorHealth(HealthStatus.Healthy, Invariant($"{withFleet}: a rise of {rise:P1} the fleet shares ({fleetRise:P1})"))
                : new ConnectorHealth(HealthStatus.Unhealthy, Invariant($"{withFleet}: a rise of {rise:P1} over its own baseline, more than the {options.MaxErrorRatioIncrease:P1} allowed{(fleetBaselineKnown ? $" (the fleet's rose {fleetRise:P1})" : string.Empty)}"));
        }

        return new ConnectorHealth(HealthStatus.Healthy, withFleet);
    }

    /// <summary>The peers' aggregate over the query's window: read once per window and peer list, shared by every query naming them.</summary>
    private Task<FleetSample> FleetOf(HealthQuery query)
    {
        var key = new FleetKey(query.Since, query.Until, string.Join('\n', query.Peers.Select(p => p.Id)));
        lock (_lock)
        {
            if (_fleet.TryGetValue(key, out var cached))
            {
                return cached;
            }

            var read = Task.Run(() => ReadFleetAsync(query));
            _fleet[key] = read;
            _fleetOrder.Enqueue(key);
            while (_fleetOrder.Count > MaxFleetWindows)
            {
                _fleet.Remove(_fleetOrder.Dequeue());
            }

            return read;
        }
    }

    private async Task<FleetSample> ReadFleetAsync(HealthQuery query)
    {
        var reads = new List<Task<Outcome>>();
        var batches = new Dictionary<BatchKey, List<PendingBatch>>();
        foreach (var peer in query.Peers)
        {
            if (!HealthReads.TryParseSite(peer, out var siteId, out _))
            {
                continue;
            }

            var peerQuery = new HealthQuery(peer, query.Build, query.Since, query.Until);
            var region = RegionOf(peer);
            if (!_options.UseBatch || region is null)
            {
                reads.Add(ReadOneAsync(peerQuery, siteId, CancellationToken.None));
                continue;
            }

            var key = new BatchKey(siteId.SubscriptionId!.ToLowerInvariant(), region, query.Since, query.Until);
            if (!batches.TryGetValue(key, out var list))
            {
                batches[key] = list = [];
            }

            if (list.Count == 0 || list[^1].Entries.Count >= _options.MaxBatchSize)
            {
                list.Add(new PendingBatch(key));
            }

            var entry = new Entry(peerQuery, siteId, new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously));
            list[^1].Entries.Add(entry);
            reads.Add(entry.Result.Task);
        }

        await Task.WhenAll(batches.Values.SelectMany(b => b).Select(SendAsync)).ConfigureAwait(false);
        var outcomes = await Task.WhenAll(reads).ConfigureAwait(false);
        var start = Floor(query.Since);
        var before = BaselineStart(start, query.Until);
        double errorsAfter = 0, volumeAfter = 0, errorsBefore = 0, volumeBefore = 0;
        var read = 0;
        foreach (var outcome in outcomes)
        {
            if (outcome.Series is not { } series
                || !series.TryGetValue(_options.VolumeMetric, out var volume)
                || !series.TryGetValue(_options.ErrorMetric, out var errors))
            {
                continue;
            }

            read++;
            volumeAfter += Sum(volume, start, query.Until).Total;
            errorsAfter += Sum(errors, start, query.Until).Total;
            volumeBefore += Sum(volume, before, start).Total;
            errorsBefore += Sum(errors, before, start).Total;
        }

        return new FleetSample(query.Peers.Count, read, errorsAfter, volumeAfter, errorsBefore, volumeBefore);
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
            // Whatever happened, no query of the batch is left waiting (TrySetResult leaves the answered ones as they are).
            Complete(entries, Outcome.Failed("the metrics batch read ended without an answer for this site"));
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

    /// <summary>The peers' PT1M totals summed over the window after the deploy and the baseline before it.</summary>
    internal sealed record FleetSample(int Peers, int Read, double ErrorsAfter, double VolumeAfter, double ErrorsBefore, double VolumeBefore);

    private readonly record struct FleetKey(DateTimeOffset Since, DateTimeOffset Until, string Peers);

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
