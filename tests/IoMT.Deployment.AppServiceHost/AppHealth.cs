using System.Collections.Concurrent;

namespace IoMT.Deployment.Loopback;

/// <summary>A fault the health routes (host status, metrics, metrics batch) answer instead of their data, one per request.</summary>
public enum HealthFault
{
    /// <summary><c>429</c> with <c>Retry-After</c> (<see cref="AppServiceHostOptions.RetryAfterSeconds"/>).</summary>
    TooManyRequests,

    /// <summary><c>403 AuthorizationFailed</c>.</summary>
    Forbidden,

    /// <summary><c>500 InternalServerError</c>.</summary>
    ServerError,

    /// <summary><c>200</c> with a body that is not JSON.</summary>
    MalformedJson,

    /// <summary><c>200</c> with well-formed JSON of the wrong shape: a metric data point without its <c>timeStamp</c>.</summary>
    UnexpectedShape,

    /// <summary><c>200</c> with every metric's <c>timeseries</c> empty (metrics routes; the host status answers no state).</summary>
    EmptySeries,
}

/// <summary>A queue of scripted faults: each request of the route takes the next one, if any.</summary>
public sealed class HealthFaultQueue
{
    private readonly ConcurrentQueue<HealthFault> _faults = new();

    /// <summary>Makes the next <paramref name="count"/> requests answer <paramref name="fault"/>.</summary>
    /// <param name="fault">The fault.</param>
    /// <param name="count">How many requests.</param>
    public void Enqueue(HealthFault fault, int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(fault);
        }
    }

    /// <summary>Gets how many faults are still queued.</summary>
    public int Count => _faults.Count;

    /// <summary>Takes the next fault, if any.</summary>
    /// <param name="fault">The fault.</param>
    /// <returns>Whether one was queued.</returns>
    public bool TryTake(out HealthFault fault) => _faults.TryDequeue(out fault);
}

/// <summary>
/// What the health routes say of one app: the Functions host's state and errors (<c>…/host/default/properties/status</c>)
/// and per-minute metric totals (<c>…/providers/Microsoft.Insights/metrics</c> and <c>metrics:getBatch</c>).
/// </summary>
public sealed class AppHealth
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<DateTimeOffset, double>> _metrics = new(StringComparer.OrdinalIgnoreCase);
    private volatile string _hostState = "Running";
    private volatile string[] _hostErrors = [];
    private volatile bool _hostMissing;
    private volatile string _region = "westeurope";

    /// <summary>Gets or sets the host's <c>properties.state</c> (<c>Running</c>, <c>Error</c>, <c>Offline</c>, <c>Starting</c>, …).</summary>
    /// <value>The default is <c>Running</c>.</value>
    public string HostState { get => _hostState; set => _hostState = value; }

    /// <summary>Gets or sets the host's <c>properties.errors</c>.</summary>
    public IReadOnlyList<string> HostErrors { get => _hostErrors; set => _hostErrors = [.. value]; }

    /// <summary>Gets or sets a value indicating whether the host status answers <c>404</c> (no Functions host).</summary>
    public bool HostMissing { get => _hostMissing; set => _hostMissing = value; }

    /// <summary>Gets or sets the app's region as Azure Monitor names it (<c>resourceregion</c>), e.g. <c>westeurope</c>.</summary>
    public string Region { get => _region; set => _region = value; }

    /// <summary>Gets the faults the app's health routes answer next.</summary>
    public HealthFaultQueue Faults { get; } = new();

    /// <summary>Sets a metric's total for every minute of <c>[from, until)</c>.</summary>
    /// <param name="metric">The metric name (<c>Http5xx</c>, <c>Requests</c>, …).</param>
    /// <param name="from">The first minute (truncated to the minute).</param>
    /// <param name="until">The end, exclusive.</param>
    /// <param name="totalPerMinute">The total of each minute.</param>
    public void SetMetric(string metric, DateTimeOffset from, DateTimeOffset until, double totalPerMinute)
    {
        var series = _metrics.GetOrAdd(metric, static _ => new ConcurrentDictionary<DateTimeOffset, double>());
        for (var minute = Minute(from); minute < until; minute = minute.AddMinutes(1))
        {
            series[minute] = totalPerMinute;
        }
    }

    /// <summary>Removes every recorded value of every metric.</summary>
    public void ClearMetrics() => _metrics.Clear();

    internal double? TotalAt(string metric, DateTimeOffset minute) =>
        _metrics.TryGetValue(metric, out var series) && series.TryGetValue(minute, out var total) ? total : null;

    internal static DateTimeOffset Minute(DateTimeOffset at) =>
        new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
}
