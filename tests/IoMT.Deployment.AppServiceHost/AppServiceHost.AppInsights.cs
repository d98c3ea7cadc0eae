using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace IoMT.Deployment.Loopback;

/// <summary>One query the Application Insights route answered (or refused), as the client sent it.</summary>
/// <param name="AppId">The application id of the path.</param>
/// <param name="Query">The KQL of the body.</param>
/// <param name="Timespan">The body's <c>timespan</c>, if any.</param>
/// <param name="TokenAudience">The audience of the bearer token.</param>
public sealed record AppInsightsQuery(string AppId, string Query, string? Timespan, string? TokenAudience);

/// <summary>
/// One Application Insights resource of the loopback host: per-minute <c>requests</c> counts (total and failed) per
/// <c>cloud_RoleName</c>, scripted faults and an answer delay.
/// </summary>
public sealed class AppInsightsApp
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<DateTimeOffset, (long Total, long Failed)>> _requests = new(StringComparer.OrdinalIgnoreCase);

    internal AppInsightsApp(string appId) => AppId = appId;

    /// <summary>Gets the application id (a GUID).</summary>
    public string AppId { get; }

    /// <summary>Gets the faults the query route answers next for this application (<see cref="HealthFault.EmptySeries"/>: a <c>PrimaryResult</c> without rows; <see cref="HealthFault.UnexpectedShape"/>: a row whose counts are not numbers).</summary>
    public HealthFaultQueue Faults { get; } = new();

    /// <summary>Gets or sets how long the query route waits before it answers.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Sets the requests of a role for every minute of <c>[from, until)</c>.</summary>
    /// <param name="roleName">The <c>cloud_RoleName</c> (the Function app's site name).</param>
    /// <param name="from">The first minute (truncated to the minute).</param>
    /// <param name="until">The end, exclusive.</param>
    /// <param name="totalPerMinute">The requests of each minute.</param>
    /// <param name="failedPerMinute">Of those, the failed ones (<c>success == false</c>).</param>
    public void SetRequests(string roleName, DateTimeOffset from, DateTimeOffset until, long totalPerMinute, long failedPerMinute)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(failedPerMinute, totalPerMinute);
        var series = _requests.GetOrAdd(roleName, static _ => new ConcurrentDictionary<DateTimeOffset, (long, long)>());
        for (var minute = AppHealth.Minute(from); minute < until; minute = minute.AddMinutes(1))
        {
            series[minute] = (totalPerMinute, failedPerMinute);
        }
    }

    /// <summary>Counts a role's requests of <c>[from, until)</c> (by minute).</summary>
    internal (long Total, long Failed) Count(string roleName, DateTimeOffset from, DateTimeOffset until)
    {
        long total = 0, failed = 0;
        if (_requests.TryGetValue(roleName, out var series))
        {
            foreach (var (minute, counts) in series)
            {
                if (minute >= from && minute < until)
                {
                    total += counts.Total;
                    failed += counts.Failed;
                }
            }
        }

        return (total, failed);
    }
}

/// <summary>
/// The Application Insights query route of the loopback host: <c>POST /v1/apps/{appId}/query</c> with a body
/// <c>{"query": …, "timespan": …}</c>, answered in the API's shape (<c>{"tables":[{"name":"PrimaryResult","columns":[…],"rows":[…]}]}</c>).
/// The host runs no KQL: it reads the failure-rate query's <c>datetime(…)</c> bounds (<c>before</c>, <c>since</c>,
/// <c>until</c>) and its <c>cloud_RoleName =~ '…'</c>, and answers <c>window</c>, <c>total</c>, <c>failed</c> per window
/// with requests (no row for a window without any, as <c>summarize … by</c> does); any other query is a 400.
/// </summary>
public sealed partial class AppServiceHost
{
    private const string AppInsightsAudience = "https://api.applicationinsights.io";

    private readonly ConcurrentDictionary<string, AppInsightsApp> _appInsights = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<AppInsightsQuery> _appInsightsQueries = new();

    /// <summary>Gets the endpoint of the Application Insights query API for signals' options (the host's own address).</summary>
    public Uri AppInsightsEndpoint => ArmEndpoint;

    /// <summary>Gets every query the Application Insights route received, in order.</summary>
    public IReadOnlyList<AppInsightsQuery> AppInsightsQueries => [.. _appInsightsQueries];

    /// <summary>Adds an Application Insights resource.</summary>
    /// <param name="appId">Its application id, or <see langword="null"/> for a new GUID.</param>
    /// <returns>The resource.</returns>
    public AppInsightsApp AddAppInsights(string? appId = null)
    {
        var app = new AppInsightsApp(appId ?? Guid.NewGuid().ToString("D"));
        return _appInsights.TryAdd(app.AppId, app) ? app : throw new InvalidOperationException($"Application Insights app '{app.AppId}' already exists.");
    }

    private async Task<bool> TryHandleAppInsightsAsync(Call call, string[] segments)
    {
        if (segments.Length != 4 || !Is(segments[0], "v1") || !Is(segments[1], "apps") || !Is(segments[3], "query"))
        {
            return false;
        }

        call.Route = AppServiceRoute.AppInsightsQuery;
        call.AppName = segments[2];
        if (call.Token is null || (_options.EnforceAudience && call.Audience is { } audience && !SameAudience(audience, AppInsightsAudience)))
        {
            call.Context.Response.Headers.WWWAuthenticate = "Bearer authorization_uri=\"https://login.microsoftonline.com/\", error=\"invalid_token\"";
            await ErrorAsync(call, 401, "InvalidTokenError", "The provided authentication is not valid for this resource; the query API takes tokens for " + AppInsightsAudience + ".").ConfigureAwait(false);
            return true;
        }

        if (!HttpMethods.IsPost(call.Context.Request.Method))
        {
            await ErrorAsync(call, 405, "MethodNotAllowed", "The route needs POST.").ConfigureAwait(false);
            return true;
        }

        string query;
        string? timespan;
        try
        {
            using var document = JsonDocument.Parse(await ReadBodyAsync(call).ConfigureAwait(false));
            var root = document.RootElement;
            query = root.TryGetProperty("query", out var q) && q.ValueKind == JsonValueKind.String ? q.GetString()! : throw new JsonException("The body has no 'query'.");
            timespan = root.TryGetProperty("timespan", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        }
        catch (JsonException ex)
        {
            await ErrorAsync(call, 400, "BadArgumentError", ex.Message).ConfigureAwait(false);
            return true;
        }

        _appInsightsQueries.Enqueue(new AppInsightsQuery(segments[2], query, timespan, call.Audience));
        if (!_appInsights.TryGetValue(segments[2], out var app))
        {
            await ErrorAsync(call, 404, "PathNotFoundError", $"The requested path does not exist: application '{segments[2]}' was not found.").ConfigureAwait(false);
            return true;
        }

        if (app.Latency > TimeSpan.Zero)
        {
            await Task.Delay(app.Latency, call.Context.RequestAborted).ConfigureAwait(false);
        }

        var fault = app.Faults.TryTake(out var f) ? f : (HealthFault?)null;
        if (fault == HealthFault.UnexpectedShape)
        {
            // Well-formed, the right table, but a count that is not a number.
            await TextAsync(call, 200, "application/json", "{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":[{\"name\":\"window\",\"type\":\"string\"},{\"name\":\"total\",\"type\":\"long\"},{\"name\":\"failed\",\"type\":\"long\"}],\"rows\":[[\"after\",\"many\",null]]}]}").ConfigureAwait(false);
            return true;
        }

        if (fault is not null and not HealthFault.EmptySeries && await AnswerFaultAsync(call, fault.Value).ConfigureAwait(false))
        {
            return true;
        }

        if (!TryReadFailureRateQuery(query, out var role, out var before, out var since, out var until))
        {
            await ErrorAsync(call, 400, "BadArgumentError", "The loopback host answers the failure-rate query only: requests | where cloud_RoleName =~ '…' with let before/since/until = datetime(…).").ConfigureAwait(false);
            return true;
        }

        var windows = fault == HealthFault.EmptySeries
            ? []
            : new[] { ("before", app.Count(role, before, since)), ("after", app.Count(role, since, until)) }.Where(w => w.Item2.Total > 0).ToArray();
        await JsonAsync(call, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("tables");
            writer.WriteStartObject();
            writer.WriteString("name", "PrimaryResult");
            writer.WriteStartArray("columns");
            foreach (var (name, type) in new[] { ("window", "string"), ("total", "long"), ("failed", "long") })
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteString("type", type);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("rows");
            foreach (var (window, (total, failed)) in windows)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(window);
                writer.WriteNumberValue(total);
                writer.WriteNumberValue(failed);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
        return true;
    }

    private static bool TryReadFailureRateQuery(string query, out string role, out DateTimeOffset before, out DateTimeOffset since, out DateTimeOffset until)
    {
        role = string.Empty;
        before = since = until = default;
        var roleMatch = Regex.Match(query, @"cloud_RoleName\s*=~\s*'((?:[^'\\]|\\.)*)'");
        if (!query.TrimStart().Contains("requests", StringComparison.Ordinal) || !query.Contains("summarize", StringComparison.Ordinal) || !roleMatch.Success
            || !TryReadLet(query, "before", out before) || !TryReadLet(query, "since", out since) || !TryReadLet(query, "until", out until)
            || !(before <= since && since < until))
        {
            return false;
        }

        role = Regex.Unescape(roleMatch.Groups[1].Value);
        return true;
    }

    private static bool TryReadLet(string query, string name, out DateTimeOffset value)
    {
        var match = Regex.Match(query, @"let\s+" + name + @"\s*=\s*datetime\(([^)]+)\)\s*;");
        value = default;
        return match.Success && DateTimeOffset.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }
}
