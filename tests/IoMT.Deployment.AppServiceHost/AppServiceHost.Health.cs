using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace IoMT.Deployment.Loopback;

/// <summary>
/// The health routes of the loopback host, with the shapes Azure answers: the Functions host status through ARM
/// (Microsoft.Web <c>…/host/default/properties/status</c>), Azure Monitor metrics of one resource (Microsoft.Insights
/// <c>metrics</c>, 2023-10-01) and the regional batch endpoint (<c>metrics:getBatch</c>, 2023-10-01); and the
/// per-subscription ARM token buckets.
/// </summary>
public sealed partial class AppServiceHost
{
    private const string MetricsAudience = "https://metrics.monitor.azure.com";
    private const int MaxBatchResources = 50;

    private static readonly Dictionary<string, string> KnownMetrics = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Http5xx"] = "Http Server Errors",
        ["Http4xx"] = "Http 4xx",
        ["Requests"] = "Requests",
        ["FunctionExecutionCount"] = "Function Execution Count",
    };

    private readonly ConcurrentDictionary<string, TokenBucket> _subscriptionBuckets = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _subscriptionThrottled = new(StringComparer.OrdinalIgnoreCase);
    private ThrottleSettings? _subscriptionReadThrottle;
    private ThrottleSettings? _subscriptionWriteThrottle;

    /// <summary>Gets or sets the token bucket each subscription's ARM reads are limited by (separately per subscription), or <see langword="null"/> for none.</summary>
    public ThrottleSettings? SubscriptionReadThrottle
    {
        get => Volatile.Read(ref _subscriptionReadThrottle);
        set
        {
            Volatile.Write(ref _subscriptionReadThrottle, value);
            _subscriptionBuckets.Clear();
        }
    }

    /// <summary>Gets or sets the token bucket each subscription's ARM writes (settings PUT, trigger sync) are limited by, or <see langword="null"/> for none.</summary>
    public ThrottleSettings? SubscriptionWriteThrottle
    {
        get => Volatile.Read(ref _subscriptionWriteThrottle);
        set
        {
            Volatile.Write(ref _subscriptionWriteThrottle, value);
            _subscriptionBuckets.Clear();
        }
    }

    /// <summary>Gets the faults the <c>metrics:getBatch</c> route answers next (whatever the subscription).</summary>
    public HealthFaultQueue MetricsBatchFaults { get; } = new();

    /// <summary>Gets how many ARM requests of a subscription its per-subscription buckets answered <c>429</c>.</summary>
    /// <param name="subscriptionId">The subscription.</param>
    /// <returns>The count.</returns>
    public int ThrottledRequests(string subscriptionId) => _subscriptionThrottled.TryGetValue(subscriptionId, out var n) ? n : 0;

    /// <summary>Gets how many ARM requests every per-subscription bucket answered <c>429</c>.</summary>
    public int TotalThrottledRequests => _subscriptionThrottled.Values.Sum();

    /// <summary>Creates the endpoint template of the batch metrics route for signals' options: <c>https://{region}.metrics.localhost:{port}</c>.</summary>
    public string MetricsBatchEndpointTemplate => $"https://{{region}}.metrics.localhost:{Port}";

    private async Task<bool> TakeSubscriptionTokenAsync(Call call, string? subscription, bool isWrite)
    {
        var settings = isWrite ? SubscriptionWriteThrottle : SubscriptionReadThrottle;
        if (subscription is null || settings is null)
        {
            return true;
        }

        var bucket = _subscriptionBuckets.GetOrAdd((isWrite ? "w:" : "r:") + subscription, _ => new TokenBucket(settings, _time));
        if (bucket.TryTake())
        {
            return true;
        }

        _subscriptionThrottled.AddOrUpdate(subscription, 1, static (_, n) => n + 1);
        await TooManyRequestsAsync(call, settings.RetryAfterSeconds).ConfigureAwait(false);
        return false;
    }

    private async Task<bool> TryHandleHealthAsync(Call call, string[] segments)
    {
        if (segments.Length == 3 && Is(segments[0], "subscriptions") && Is(segments[2], "metrics:getBatch"))
        {
            call.Route = AppServiceRoute.MetricsBatch;
            await MetricsBatchAsync(call, segments[1]).ConfigureAwait(false);
            return true;
        }

        var hostStatus = segments.Length == 12 && Is(segments[8], "host") && Is(segments[9], "default") && Is(segments[10], "properties") && Is(segments[11], "status");
        var metrics = segments.Length == 11 && Is(segments[8], "providers") && Is(segments[9], "Microsoft.Insights") && Is(segments[10], "metrics");
        if ((!hostStatus && !metrics)
            || !Is(segments[0], "subscriptions") || !Is(segments[2], "resourceGroups") || !IsSitesProvider(segments, 4))
        {
            return false;
        }

        call.Route = hostStatus ? AppServiceRoute.HostStatus : AppServiceRoute.Metrics;
        call.AppName = segments[7];
        if (!await AuthorizeAsync(call).ConfigureAwait(false))
        {
            return true;
        }

        var request = call.Context.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            await ErrorAsync(call, 405, "MethodNotAllowed", "The route needs GET.").ConfigureAwait(false);
            return true;
        }

        if (string.IsNullOrEmpty(request.Query["api-version"]))
        {
            await ErrorAsync(call, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.").ConfigureAwait(false);
            return true;
        }

        if (!await TakeSubscriptionTokenAsync(call, segments[1], isWrite: false).ConfigureAwait(false))
        {
            return true;
        }

        var resourceId = $"/subscriptions/{segments[1]}/resourceGroups/{segments[3]}/providers/Microsoft.Web/sites/{segments[7]}";
        if (!_apps.TryGetValue(resourceId, out var app))
        {
            await ErrorAsync(call, 404, "ResourceNotFound", $"The Resource 'Microsoft.Web/sites/{segments[7]}' under resource group '{segments[3]}' was not found.").ConfigureAwait(false);
            return true;
        }

        call.App = app;
        if (!await ApplyFaultsAsync(call, app).ConfigureAwait(false))
        {
            return true;
        }

        var fault = app.Health.Faults.TryTake(out var f) ? f : (HealthFault?)null;
        if (fault is not null and not HealthFault.EmptySeries && await AnswerFaultAsync(call, fault.Value).ConfigureAwait(false))
        {
            return true;
        }

        if (hostStatus)
        {
            await HostStatusAsync(call, app, empty: fault == HealthFault.EmptySeries).ConfigureAwait(false);
        }
        else
        {
            await MetricsAsync(call, app, empty: fault == HealthFault.EmptySeries).ConfigureAwait(false);
        }

        return true;
    }

    private async Task<bool> AnswerFaultAsync(Call call, HealthFault fault)
    {
        switch (fault)
        {
            case HealthFault.TooManyRequests:
                await TooManyRequestsAsync(call, _options.RetryAfterSeconds).ConfigureAwait(false);
                return true;
            case HealthFault.Forbidden:
                await ErrorAsync(call, 403, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.Insights/metrics/read' over the scope.").ConfigureAwait(false);
                return true;
            case HealthFault.ServerError:
                await ErrorAsync(call, 500, "InternalServerError", "An injected server error.").ConfigureAwait(false);
                return true;
            case HealthFault.MalformedJson:
                await TextAsync(call, 200, "application/json", "{\"value\": [ {\"name\": ").ConfigureAwait(false);
                return true;
            case HealthFault.UnexpectedShape:
                await TextAsync(call, 200, "application/json", "{\"values\": [ {\"resourceid\": \"x\", \"value\": [ {\"name\": {\"value\": \"Requests\"}, \"timeseries\": [ {\"data\": [ {\"total\": 1} ] } ] } ] } ], \"value\": [ {\"name\": {\"value\": \"Requests\"}, \"timeseries\": [ {\"data\": [ {\"total\": 1} ] } ] } ] }").ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private async Task HostStatusAsync(Call call, AppServiceApp app, bool empty)
    {
        if (app.Health.HostMissing)
        {
            await ErrorAsync(call, 404, "NotFound", "The Functions host of the site was not found.").ConfigureAwait(false);
            return;
        }

        var state = app.Health.HostState;
        var errors = app.Health.HostErrors;
        await JsonAsync(call, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", app.ResourceId + "/host/default/properties/status");
            writer.WriteString("name", "status");
            writer.WriteString("type", "Microsoft.Web/sites/host/properties");
            writer.WriteString("location", "West Europe");
            writer.WriteStartObject("properties");
            writer.WriteString("id", app.Name.ToLowerInvariant());
            if (!empty)
            {
                writer.WriteString("state", state);
            }

            writer.WriteString("version", "4.1037.0.23568");
            writer.WriteString("versionDetails", "4.1037.0+loopback");
            writer.WriteString("platformVersion", "106.0.7.0");
            writer.WriteString("instanceId", "loopback-" + app.Name.ToLowerInvariant());
            writer.WriteString("computerName", "lw0sdlwk0000");
            writer.WriteNumber("processUptime", 123456);
            writer.WriteString("functionAppContentEditingState", "NotAllowed");
            if (errors.Count > 0)
            {
                writer.WriteStartArray("errors");
                foreach (var error in errors)
                {
                    writer.WriteStringValue(error);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private async Task MetricsAsync(Call call, AppServiceApp app, bool empty)
    {
        var query = call.Context.Request.Query;
        var names = query["metricnames"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var timespan = query["timespan"].ToString().Split('/');
        if (timespan.Length != 2
            || !DateTimeOffset.TryParse(timespan[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start)
            || !DateTimeOffset.TryParse(timespan[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var end)
            || end <= start)
        {
            await ErrorAsync(call, 400, "BadRequest", "Detected invalid timespan '" + query["timespan"] + "': use start/end ISO 8601 times.").ConfigureAwait(false);
            return;
        }

        if (await RejectMetricQueryAsync(call, names).ConfigureAwait(false))
        {
            return;
        }

        await JsonAsync(call, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("cost", names.Length * (long)Math.Ceiling((end - start).TotalMinutes));
            writer.WriteString("timespan", Iso(start) + "/" + Iso(end));
            writer.WriteString("interval", "PT1M");
            WriteMetricValues(writer, app, names, start, end, empty);
            writer.WriteString("namespace", "Microsoft.Web/sites");
            writer.WriteString("resourceregion", app.Health.Region);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private async Task MetricsBatchAsync(Call call, string subscription)
    {
        var request = call.Context.Request;
        if (call.Token is null || (_options.EnforceAudience && call.Audience is { } audience && !SameAudience(audience, MetricsAudience)))
        {
            call.Context.Response.Headers.WWWAuthenticate = "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\"";
            await ErrorAsync(call, 401, "InvalidAuthenticationTokenAudience", "The metrics batch endpoint takes tokens for " + MetricsAudience + ".").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            await ErrorAsync(call, 405, "MethodNotAllowed", "The route needs POST.").ConfigureAwait(false);
            return;
        }

        var query = request.Query;
        if (string.IsNullOrEmpty(query["api-version"]) || string.IsNullOrEmpty(query["metricnamespace"]))
        {
            await ErrorAsync(call, 400, "BadRequest", "api-version and metricnamespace are required.").ConfigureAwait(false);
            return;
        }

        if (!DateTimeOffset.TryParse(query["starttime"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var start)
            || !DateTimeOffset.TryParse(query["endtime"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var end)
            || end <= start)
        {
            await ErrorAsync(call, 400, "BadRequest", "starttime and endtime must be ISO 8601 times, starttime before endtime.").ConfigureAwait(false);
            return;
        }

        var names = query["metricnames"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (await RejectMetricQueryAsync(call, names).ConfigureAwait(false))
        {
            return;
        }

        List<string> ids;
        try
        {
            using var document = JsonDocument.Parse(await ReadBodyAsync(call).ConfigureAwait(false));
            ids = document.RootElement.TryGetProperty("resourceids", out var array) && array.ValueKind == JsonValueKind.Array
                ? [.. array.EnumerateArray().Select(e => e.GetString() ?? string.Empty)]
                : throw new JsonException("The body has no 'resourceids' array.");
        }
        catch (JsonException ex)
        {
            await ErrorAsync(call, 400, "BadRequest", ex.Message).ConfigureAwait(false);
            return;
        }

        if (ids.Count is 0 or > MaxBatchResources)
        {
            await ErrorAsync(call, 400, "BadRequest", $"resourceids must name 1 to {MaxBatchResources} resources; got {ids.Count}.").ConfigureAwait(false);
            return;
        }

        var host = request.Host.Host;
        var region = host.EndsWith(".metrics.localhost", StringComparison.OrdinalIgnoreCase) ? host[..host.IndexOf('.', StringComparison.Ordinal)] : null;
        var apps = new List<AppServiceApp?>();
        foreach (var id in ids)
        {
            if (!string.Equals(id.Split('/', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1), subscription, StringComparison.OrdinalIgnoreCase))
            {
                await ErrorAsync(call, 400, "BadRequest", $"The resource '{id}' is not in subscription '{subscription}'.").ConfigureAwait(false);
                return;
            }

            _apps.TryGetValue(id, out var app);
            if (app is not null && region is not null && !string.Equals(app.Health.Region, region, StringComparison.OrdinalIgnoreCase))
            {
                await ErrorAsync(call, 400, "BadRequest", $"The resource '{id}' is in region '{app.Health.Region}', not '{region}'.").ConfigureAwait(false);
                return;
            }

            apps.Add(app);
        }

        var fault = MetricsBatchFaults.TryTake(out var f) ? f : (HealthFault?)null;
        if (fault is not null and not HealthFault.EmptySeries && await AnswerFaultAsync(call, fault.Value).ConfigureAwait(false))
        {
            return;
        }

        await JsonAsync(call, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("values");
            for (var i = 0; i < ids.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("starttime", Iso(start));
                writer.WriteString("endtime", Iso(end));
                writer.WriteString("interval", "PT1M");
                writer.WriteString("namespace", "Microsoft.Web/sites");
                writer.WriteString("resourceregion", apps[i]?.Health.Region ?? region ?? "westeurope");
                writer.WriteString("resourceid", ids[i]);
                WriteMetricValues(writer, apps[i], names, start, end, fault == HealthFault.EmptySeries, ids[i]);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static async Task<bool> RejectMetricQueryAsync(Call call, string[] names)
    {
        var query = call.Context.Request.Query;
        if (names.Length == 0)
        {
            await ErrorAsync(call, 400, "BadRequest", "metricnames is required.").ConfigureAwait(false);
            return true;
        }

        if (names.FirstOrDefault(n => !KnownMetrics.ContainsKey(n)) is { } unknown)
        {
            await ErrorAsync(call, 400, "BadRequest", $"Failed to find metric configuration for provider: Microsoft.Web, resource Type: sites, metric: {unknown}, Valid metrics: {string.Join(',', KnownMetrics.Keys)}").ConfigureAwait(false);
            return true;
        }

        if (!string.Equals(query["interval"], "PT1M", StringComparison.OrdinalIgnoreCase) || !string.Equals(query["aggregation"], "Total", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(call, 400, "BadRequest", "The loopback host answers interval=PT1M and aggregation=Total only.").ConfigureAwait(false);
            return true;
        }

        return false;
    }

    private static void WriteMetricValues(Utf8JsonWriter writer, AppServiceApp? app, string[] names, DateTimeOffset start, DateTimeOffset end, bool empty, string? resourceId = null)
    {
        writer.WriteStartArray("value");
        foreach (var name in names)
        {
            var canonical = KnownMetrics.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
            writer.WriteStartObject();
            writer.WriteString("id", (app?.ResourceId ?? resourceId) + "/providers/Microsoft.Insights/metrics/" + canonical);
            writer.WriteString("type", "Microsoft.Insights/metrics");
            writer.WriteStartObject("name");
            writer.WriteString("value", canonical);
            writer.WriteString("localizedValue", KnownMetrics[canonical]);
            writer.WriteEndObject();
            writer.WriteString("displayDescription", "The count of " + KnownMetrics[canonical] + ".");
            writer.WriteString("unit", "Count");
            writer.WriteStartArray("timeseries");
            if (!empty && app is not null)
            {
                writer.WriteStartObject();
                writer.WriteStartArray("metadatavalues");
                writer.WriteEndArray();
                writer.WriteStartArray("data");
                for (var minute = AppHealth.Minute(start); minute < end; minute = minute.AddMinutes(1))
                {
                    writer.WriteStartObject();
                    writer.WriteString("timeStamp", Iso(minute));
                    if (app.Health.TotalAt(canonical, minute) is { } total)
                    {
                        writer.WriteNumber("total", total);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("errorCode", app is null ? "ResourceNotFound" : "Success");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
