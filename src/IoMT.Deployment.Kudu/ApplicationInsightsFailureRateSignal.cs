using System.ComponentModel.DataAnnotations;
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

/// <summary>Options of the Application Insights failure rate signal (<c>AddApplicationInsightsFailureRateSignal</c>).</summary>
/// <remarks>
/// The signal asks the Application Insights query API for the connector's <c>requests</c> (<c>cloud_RoleName</c> = the
/// Function app's site name): total and failed in the window after the wave's verification and in the same-length window
/// before it. The retry and timeout settings of <see cref="AppServiceOptions"/> apply; the ARM settings do not (the query
/// API is not ARM, and the subscription throttle does not meter it).
/// </remarks>
[OptionsSection(SectionName)]
public sealed class ApplicationInsightsFailureRateSignalOptions : AppServiceOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Gates:ApplicationInsights";

    /// <summary>The Application Insights query API, <c>https://api.applicationinsights.io</c>.</summary>
    public const string DefaultQueryEndpoint = "https://api.applicationinsights.io";

    /// <summary>The token scope of the query API, <c>https://api.applicationinsights.io/.default</c>.</summary>
    public const string DefaultQueryScope = "https://api.applicationinsights.io/.default";

    /// <summary>Creates the options with the signal's defaults (2 retries, 30 s network timeout: a health read is not worth a long wait).</summary>
    public ApplicationInsightsFailureRateSignalOptions()
    {
        MaxRetries = 2;
        NetworkTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>Gets or sets the query API endpoint; <c>/v1/apps/{appId}/query</c> is appended. Tests point it at a loopback host.</summary>
    /// <value>The default is <see cref="DefaultQueryEndpoint"/>.</value>
    [Required(ErrorMessage = "{0} is required (e.g. https://api.applicationinsights.io).")]
    public Uri QueryEndpoint { get; set; } = new(DefaultQueryEndpoint);

    /// <summary>Gets or sets the token scope of the query API.</summary>
    /// <value>The default is <see cref="DefaultQueryScope"/>.</value>
    [Required(ErrorMessage = "{0} is required (e.g. https://api.applicationinsights.io/.default).")]
    public string QueryScope { get; set; } = DefaultQueryScope;

    /// <summary>Gets or sets the connector tag that holds the Application Insights application id (a GUID, from the API Access blade).</summary>
    /// <value>The default is <c>appInsightsAppId</c>.</value>
    public string? AppIdTag { get; set; } = "appInsightsAppId";

    /// <summary>Gets the application ids by connector id, for connectors whose tags name none.</summary>
    public IDictionary<string, string> AppIds { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets the application id of connectors that neither a tag nor <see cref="AppIds"/> maps (one Application Insights resource shared by the fleet), or <see langword="null"/>: such connectors are no data.</summary>
    public string? DefaultAppId { get; set; }

    /// <summary>Gets or sets the fewest requests the window after the deploy needs; fewer (or none) is no data, never healthy.</summary>
    /// <value>The default is 50.</value>
    [Range(1, 100_000_000, ErrorMessage = "{0} must be between 1 and 100000000.")]
    public int MinimumSample { get; set; } = 50;

    /// <summary>
    /// Gets or sets how much the failure ratio may rise over the baseline (an absolute ratio: 0.02 is two percentage points).
    /// A baseline with fewer than <see cref="MinimumSample"/> requests is taken as a ratio of 0.
    /// </summary>
    /// <value>The default is 0.02.</value>
    [Range(0.0, 1.0, ErrorMessage = "{0} must be between 0 and 1.")]
    public double MaxFailureRatioIncrease { get; set; } = 0.02;

    /// <inheritdoc/>
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        if (QueryEndpoint is { } endpoint && (!endpoint.IsAbsoluteUri || endpoint.Scheme != Uri.UriSchemeHttps))
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(QueryEndpoint))} must be an absolute https URI such as {DefaultQueryEndpoint}; got '{endpoint}'.", [nameof(QueryEndpoint)]);
        }

        if (DefaultAppId is not null && !Guid.TryParse(DefaultAppId, out _))
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(DefaultAppId))} must be an Application Insights application id (a GUID); got '{DefaultAppId}'.", [nameof(DefaultAppId)]);
        }

        foreach (var (connector, appId) in AppIds)
        {
            if (!Guid.TryParse(appId, out _))
            {
                yield return new ValidationResult($"{Key(validationContext, $"{nameof(AppIds)}:{connector}")} must be an Application Insights application id (a GUID); got '{appId}'.", [nameof(AppIds)]);
            }
        }
    }
}

/// <summary>
/// An optional health signal from Application Insights: the failure ratio of the connector's <c>requests</c>
/// (<c>success == false</c> over all, <c>cloud_RoleName</c> = the site name) in the window after the wave's verification
/// against the same-length window before it. A rise above <see cref="ApplicationInsightsFailureRateSignalOptions.MaxFailureRatioIncrease"/>
/// is unhealthy; no requests or fewer than <see cref="ApplicationInsightsFailureRateSignalOptions.MinimumSample"/> after the
/// deploy, no application id, and every failed query (429, 5xx, 401/403, malformed JSON, no answer) are no data with the
/// reason, logged.
/// </summary>
/// <remarks>
/// Reads <c>POST {QueryEndpoint}/v1/apps/{appId}/query</c> with a KQL query that counts both windows in one call; the
/// application id comes from the connector's tag (<see cref="ApplicationInsightsFailureRateSignalOptions.AppIdTag"/>),
/// <see cref="ApplicationInsightsFailureRateSignalOptions.AppIds"/> or <see cref="ApplicationInsightsFailureRateSignalOptions.DefaultAppId"/>.
/// </remarks>
public sealed class ApplicationInsightsFailureRateSignal : IConnectorHealthSignal
{
    private readonly ApplicationInsightsFailureRateSignalOptions _options;
    private readonly HttpPipeline _pipeline;
    private readonly ILogger _logger;

    /// <summary>Creates the signal.</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The credential (the Application Insights API scope).</param>
    /// <param name="timeProvider">The clock of retry delays; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public ApplicationInsightsFailureRateSignal(IOptions<ApplicationInsightsFailureRateSignalOptions> options, TokenCredential credential, TimeProvider? timeProvider = null, ILogger<ApplicationInsightsFailureRateSignal>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _options = options.Value;
        DeploymentOptionsValidation.ThrowIfInvalid(_options);
        _pipeline = AppServiceClientOptions.BuildPipeline(_options, credential, _options.QueryScope, timeProvider ?? TimeProvider.System);
        _logger = logger ?? NullLogger<ApplicationInsightsFailureRateSignal>.Instance;
    }

    /// <inheritdoc/>
    public string Name => "application-insights-failure-rate";

    /// <inheritdoc/>
    public async ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connector = query.Connector;
        if (!HealthReads.TryParseSite(connector, out var siteId, out var problem))
        {
            return HealthReads.NoData(_logger, Name, connector, problem);
        }

        if (query.Until <= query.Since)
        {
            return HealthReads.NoData(_logger, Name, connector, "the window after the deploy is empty");
        }

        var appId = AppIdOf(connector);
        if (appId is null)
        {
            return HealthReads.NoData(_logger, Name, connector, string.Create(CultureInfo.InvariantCulture,
                $"no Application Insights application id: tag the connector '{_options.AppIdTag}', or set AppIds or DefaultAppId"));
        }

        if (!Guid.TryParse(appId, out var appGuid))
        {
            return HealthReads.NoData(_logger, Name, connector, $"'{appId}' is not an Application Insights application id (a GUID)");
        }

        try
        {
            using var message = CreateQuery(appGuid, siteId.Name, query.Since, query.Until);
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            if (response.IsError)
            {
                return HealthReads.NoData(_logger, Name, connector, DescribeStatus(response, appGuid));
            }

            var (table, failure) = ParseCounts(response.Content.ToMemory());
            return HealthReads.Report(_logger, Name, connector, failure is not null
                ? new ConnectorHealth(HealthStatus.NoData, failure)
                : Judge(table!, _options));
        }
        catch (Exception ex) when (HealthReads.IsReadFailure(ex, cancellationToken))
        {
            return HealthReads.NoData(_logger, Name, connector, HealthReads.Describe(ex));
        }
    }

    /// <summary>
    /// The KQL of one connector: its <c>requests</c> from the start of the baseline to the end of the window, counted per
    /// window (<c>before</c>, <c>after</c>). The times are literals, so the query names its window.
    /// </summary>
    internal static string BuildQuery(string roleName, DateTimeOffset since, DateTimeOffset until)
    {
        var before = since - (until - since);
        return string.Create(CultureInfo.InvariantCulture, $"""
            let before = datetime({Iso(before)});
            let since = datetime({Iso(since)});
            let until = datetime({Iso(until)});
            requests
            | where timestamp >= before and timestamp < until
            | where cloud_RoleName =~ '{roleName.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}'
            | summarize total = count(), failed = countif(success == false) by window = iff(timestamp >= since, 'after', 'before')
            """);
    }

    /// <summary>Judges the counts per window.</summary>
    internal static ConnectorHealth Judge(IReadOnlyDictionary<string, (long Total, long Failed)> counts, ApplicationInsightsFailureRateSignalOptions options)
    {
        var (totalAfter, failedAfter) = counts.TryGetValue("after", out var a) ? a : (0, 0);
        if (totalAfter == 0)
        {
            return new ConnectorHealth(HealthStatus.NoData, "no requests after the deploy");
        }

        if (totalAfter < options.MinimumSample)
        {
            return new ConnectorHealth(HealthStatus.NoData, Invariant($"{totalAfter} requests after the deploy, fewer than the minimum sample of {options.MinimumSample}"));
        }

        var (totalBefore, failedBefore) = counts.TryGetValue("before", out var b) ? b : (0, 0);
        var ratioAfter = (double)failedAfter / totalAfter;
        var baselineKnown = totalBefore >= options.MinimumSample;
        var ratioBefore = baselineKnown ? (double)failedBefore / totalBefore : 0;
        var rise = ratioAfter - ratioBefore;
        var detail = Invariant($"failed requests {ratioAfter:P1} after the deploy ({failedAfter} of {totalAfter}) against {(baselineKnown ? $"{ratioBefore:P1} before ({failedBefore} of {totalBefore})" : "no baseline (too few before)")}");
        return rise > options.MaxFailureRatioIncrease
            ? new ConnectorHealth(HealthStatus.Unhealthy, Invariant($"{detail}: a rise of {rise:P1}, more than the {options.MaxFailureRatioIncrease:P1} allowed"))
            : new ConnectorHealth(HealthStatus.Healthy, detail);
    }

    /// <summary>Reads the <c>PrimaryResult</c> table: columns <c>window</c>, <c>total</c>, <c>failed</c>, one row per window.</summary>
    private static (Dictionary<string, (long Total, long Failed)>? Counts, string? Failure) ParseCounts(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty("tables", out var tables) || tables.ValueKind != JsonValueKind.Array)
        {
            return (null, "the answer has no tables");
        }

        var table = tables.EnumerateArray().FirstOrDefault(t => t.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "PrimaryResult");
        if (table.ValueKind != JsonValueKind.Object
            || !table.TryGetProperty("columns", out var columns) || columns.ValueKind != JsonValueKind.Array
            || !table.TryGetProperty("rows", out var rows) || rows.ValueKind != JsonValueKind.Array)
        {
            return (null, "the answer has no PrimaryResult table with columns and rows");
        }

        var names = columns.EnumerateArray().Select(c => c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null).ToList();
        int window = names.IndexOf("window"), total = names.IndexOf("total"), failed = names.IndexOf("failed");
        if (window < 0 || total < 0 || failed < 0)
        {
            return (null, "the PrimaryResult table has no window, total and failed columns");
        }

        var counts = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        try
        {
            foreach (var row in rows.EnumerateArray())
            {
                counts[row[window].GetString() ?? string.Empty] = (row[total].GetInt64(), row[failed].GetInt64());
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            return (null, "a PrimaryResult row is not a window name with total and failed counts");
        }

        return (counts, null);
    }

    private HttpMessage CreateQuery(Guid appId, string roleName, DateTimeOffset since, DateTimeOffset until)
    {
        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("query", BuildQuery(roleName, since, until));
            writer.WriteString("timespan", Iso(since - (until - since)) + "/" + Iso(until));
            writer.WriteEndObject();
        }

        var message = _pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(new Uri(_options.QueryEndpoint, "/v1/apps/" + appId.ToString("D") + "/query"));
        message.Request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
        message.Request.Headers.SetValue(HttpHeader.Names.ContentType, "application/json");
        message.Request.Content = RequestContent.Create(new BinaryData(body.ToArray()));
        return message;
    }

    private string? AppIdOf(ConnectorTarget connector)
    {
        if (_options.AppIdTag is { } tag && connector.Tags is { } tags && tags.TryGetValue(tag, out var tagged) && !string.IsNullOrWhiteSpace(tagged))
        {
            return tagged.Trim();
        }

        return _options.AppIds.TryGetValue(connector.Id, out var mapped) ? mapped : _options.DefaultAppId;
    }

    private static string DescribeStatus(Response response, Guid appId) => response.Status switch
    {
        401 or 403 => Invariant($"access denied ({response.Status}): the identity needs read access to the Application Insights resource of application {appId}"),
        404 => Invariant($"the Application Insights application {appId} was not found (404)"),
        _ => HealthReads.DescribeStatus(response),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
