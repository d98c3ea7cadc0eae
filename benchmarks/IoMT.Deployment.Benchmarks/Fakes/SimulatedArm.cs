using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Core.Pipeline;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// A simulated ARM for target 6, in process: an <see cref="HttpMessageHandler"/> that meters each subscription with its
/// own read and write token buckets (on the real clock, as ARM does), answers 429 with <c>Retry-After</c> when a bucket is
/// empty, and otherwise answers after a simulated latency.
/// </summary>
internal sealed class SimulatedArm(PreciseDelay delay, TimeSpan latency, SimulatedArm.Limits limits) : HttpMessageHandler
{
    private readonly Dictionary<string, (Bucket Reads, Bucket Writes)> _buckets = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();
    private long _requests;
    private long _throttled;

    public sealed record Limits(int ReadBurst, double ReadRefill, int WriteBurst, double WriteRefill, int RetryAfterSeconds);

    public long Requests => Interlocked.Read(ref _requests);

    public long Throttled => Interlocked.Read(ref _throttled);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        var path = request.RequestUri!.AbsolutePath;
        var subscription = path.Split('/', StringSplitOptions.RemoveEmptyEntries)[1];
        var isWrite = request.Method != HttpMethod.Get;
        bool admitted;
        lock (_lock)
        {
            if (!_buckets.TryGetValue(subscription, out var buckets))
            {
                buckets = (new Bucket(limits.ReadBurst, limits.ReadRefill), new Bucket(limits.WriteBurst, limits.WriteRefill));
                _buckets[subscription] = buckets;
            }

            admitted = (isWrite ? buckets.Writes : buckets.Reads).TryTake();
        }

        if (!admitted)
        {
            Interlocked.Increment(ref _throttled);
            var throttled = new HttpResponseMessage((HttpStatusCode)429) { Content = new ByteArrayContent([]) };
            throttled.Headers.TryAddWithoutValidation("Retry-After", limits.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture));
            return throttled;
        }

        await delay.Delay(latency).ConfigureAwait(false);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent("{}"u8.ToArray()) };
    }

    private sealed class Bucket(int burst, double refillPerSecond)
    {
        private double _tokens = burst;
        private long _last = Stopwatch.GetTimestamp();

        public bool TryTake()
        {
            var now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(burst, _tokens + (Stopwatch.GetElapsedTime(_last, now).TotalSeconds * refillPerSecond));
            _last = now;
            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }
}

/// <summary>
/// A fleet of Function apps behind <see cref="SimulatedArm"/>, spread over subscriptions: every read of
/// <c>PROJECT_VERSION</c> is an ARM GET, a deploy is an ARM GET of the site then the scm upload (not ARM), a version
/// write is an ARM PUT; each through an Azure.Core pipeline (retries honouring <c>Retry-After</c>) with, or without, the
/// subscription throttle's policy.
/// </summary>
internal sealed class ThrottledFleet : IConnectorInventory, IConnectorDeployer
{
    private static readonly Uri Arm = new("https://management.simulated");
    private readonly IReadOnlyList<ConnectorTarget> _connectors;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly byte[] _runs;
    private readonly HttpPipeline _pipeline;
    private readonly PreciseDelay _delay;
    private readonly TimeSpan _deployLatency;
    private readonly string _newVersion;
    private readonly string _oldVersion;

    public ThrottledFleet(int count, int subscriptions, SimulatedArm arm, Kudu.ArmSubscriptionThrottle? throttle, PreciseDelay delay, TimeSpan deployLatency)
    {
        // Every subscription holds exactly count/subscriptions connectors, listed in a shuffled (seeded) order, as an
        // inventory sorted by name mixes subscriptions.
        var random = new Random(6);
        var order = Enumerable.Range(0, count).OrderBy(_ => random.Next()).ToArray();
        _connectors = [.. order.Select(i => new ConnectorTarget(
            "c" + i.ToString("D5", CultureInfo.InvariantCulture),
            $"/subscriptions/{SubscriptionId(i % subscriptions)}/resourceGroups/rg/providers/Microsoft.Web/sites/c{i:D5}"))];
        for (var i = 0; i < _connectors.Count; i++)
        {
            _index[_connectors[i].Id] = i;
        }

        _runs = new byte[count];
        _delay = delay;
        _deployLatency = deployLatency;
        _oldVersion = SimulatedDeployment.OldBuild.ToString();
        _newVersion = SimulatedDeployment.NewBuild.ToString();
        var options = new FleetClientOptions { Transport = new HttpClientTransport(new HttpClient(arm)) };
        options.Retry.MaxRetries = 100;
        options.Retry.Mode = RetryMode.Fixed;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(5);
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        options.Diagnostics.IsTelemetryEnabled = false;
        _pipeline = HttpPipelineBuilder.Build(options, perCallPolicies: [], perRetryPolicies: throttle is null ? [] : [throttle.CreatePipelinePolicy(Arm)], responseClassifier: new ResponseClassifier());
    }

    public int Count => _runs.Length;

    public static string SubscriptionId(int index) => $"00000000-0000-0000-0000-{index:D12}";

    public int OnNewBuild() => _runs.Count(r => r == 1);

#pragma warning disable CS1998 // The inventory costs nothing: only the ARM traffic is measured.
    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
    {
        foreach (var connector in _connectors)
        {
            yield return connector;
        }
    }

    public Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default) => Task.FromResult(_index.ContainsKey(connectorId));

    public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        await SendAsync(RequestMethod.Get, connector.ResourceId!, cancellationToken).ConfigureAwait(false);
        await _delay.Delay(_deployLatency).ConfigureAwait(false);
    }

    public async Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
    {
        await SendAsync(RequestMethod.Put, connector.ResourceId + "/config/appsettings", cancellationToken).ConfigureAwait(false);
        _runs[_index[connector.Id]] = build.ToString() == _newVersion ? (byte)1 : (byte)0;
    }

    public async Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        await SendAsync(RequestMethod.Get, connector.ResourceId + "/config/appsettings", cancellationToken).ConfigureAwait(false);
        return _runs[_index[connector.Id]] == 1 ? _newVersion : _oldVersion;
    }

    private async Task SendAsync(RequestMethod method, string path, CancellationToken cancellationToken)
    {
        using var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(Arm, path + "?api-version=2024-04-01"));
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (message.Response.Status != 200)
        {
            throw new InvalidOperationException($"ARM answered {message.Response.Status} after the retries.");
        }
    }

    private sealed class FleetClientOptions : ClientOptions;
}
