using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using IoMT.Deployment.Composition;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>Options of the per-subscription ARM throttle (<c>AddArmSubscriptionThrottle</c>).</summary>
/// <remarks>
/// Azure Resource Manager meters each subscription (per region and principal) with token buckets; its published limits
/// are writes: bucket 200, refill 10 per second; reads: bucket 250, refill 25 per second. The defaults here keep the
/// buckets and refill slightly below (9.5/s and 24/s): our bucket starts full while ARM's may already be partly spent by
/// other clients of the subscription (the portal, pipelines, the Functions platform itself), and our clock and ARM's
/// drift apart by a little on every refill; running at the limit exactly would turn both into a steady trickle of 429s.
/// A 429 still happens when others drain the bucket: then the whole subscription pauses (see <see cref="ArmSubscriptionThrottle"/>).
/// </remarks>
[OptionsSection(SectionName)]
public sealed class ArmSubscriptionThrottleOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:ArmThrottle";

    /// <summary>Gets or sets the write bucket's size (PUT, POST, PATCH, DELETE requests at once).</summary>
    /// <value>The default is 200 (Azure's published limit).</value>
    [Range(1, 100_000, ErrorMessage = "{0} must be between 1 and 100000.")]
    public int WriteBurst { get; set; } = 200;

    /// <summary>Gets or sets the writes added to the bucket per second.</summary>
    /// <value>The default is 9.5 (Azure publishes 10; see the remarks of the class).</value>
    [Range(0.001, 100_000, ErrorMessage = "{0} must be between 0.001 and 100000.")]
    public double WriteRefillPerSecond { get; set; } = 9.5;

    /// <summary>Gets or sets the read bucket's size (GET and HEAD requests at once).</summary>
    /// <value>The default is 250 (Azure's published limit).</value>
    [Range(1, 100_000, ErrorMessage = "{0} must be between 1 and 100000.")]
    public int ReadBurst { get; set; } = 250;

    /// <summary>Gets or sets the reads added to the bucket per second.</summary>
    /// <value>The default is 24 (Azure publishes 25; see the remarks of the class).</value>
    [Range(0.001, 100_000, ErrorMessage = "{0} must be between 0.001 and 100000.")]
    public double ReadRefillPerSecond { get; set; } = 24;

    /// <summary>Gets or sets how many connectors of one subscription are deployed at the same time (by <see cref="SubscriptionThrottledRolloutPolicy"/>).</summary>
    /// <value>The default is 50.</value>
    [Range(1, 10_000, ErrorMessage = "{0} must be between 1 and 10000.")]
    public int MaxConcurrentDeploymentsPerSubscription { get; set; } = 50;

    /// <summary>Gets or sets the longest random time added to a 429's <c>Retry-After</c> before the subscription resumes.</summary>
    /// <value>The default is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "{0} must be between 00:00:00 and 00:05:00.")]
    public TimeSpan MaxRetryAfterJitter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the pause after a 429 without a readable <c>Retry-After</c>.</summary>
    /// <value>The default is 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "{0} must be between 00:00:00 and 01:00:00.")]
    public TimeSpan DefaultRetryAfter { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Keeps the ARM requests and deployments of each subscription under Azure's per-subscription limits: a write and a read
/// token bucket per subscription (waited for, on the <see cref="TimeProvider"/>, never refused), a bound on concurrent
/// deployments per subscription, and a shared pause: when any request of a subscription is answered 429, every caller of
/// that subscription waits for its <c>Retry-After</c> plus a jitter (and the subscription's buckets restart empty), while
/// callers of other subscriptions go on. The subscription is read from the request path or the connector's resource id.
/// </summary>
public sealed class ArmSubscriptionThrottle
{
    private readonly ArmSubscriptionThrottleOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly ConcurrentDictionary<string, Subscription> _subscriptions = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the throttle.</summary>
    /// <param name="options">The limits.</param>
    /// <param name="timeProvider">The clock the buckets refill on and the waits run on.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public ArmSubscriptionThrottle(IOptions<ArmSubscriptionThrottleOptions> options, TimeProvider? timeProvider = null, ILogger<ArmSubscriptionThrottle>? logger = null)
        : this(options, timeProvider, logger, Random.Shared)
    {
    }

    internal ArmSubscriptionThrottle(IOptions<ArmSubscriptionThrottleOptions> options, TimeProvider? timeProvider, ILogger? logger, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        DeploymentOptionsValidation.ThrowIfInvalid(_options);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _random = random;
    }

    /// <summary>Gets the limits.</summary>
    public ArmSubscriptionThrottleOptions Options => _options;

    /// <summary>Reads the subscription id from a resource id or an ARM request path (<c>/subscriptions/{id}/…</c>).</summary>
    /// <param name="resourceIdOrPath">The resource id or path.</param>
    /// <returns>The subscription id, or <see langword="null"/> when the text names none.</returns>
    public static string? SubscriptionOf(string? resourceIdOrPath)
    {
        if (string.IsNullOrEmpty(resourceIdOrPath))
        {
            return null;
        }

        var span = resourceIdOrPath.AsSpan().TrimStart('/');
        const string prefix = "subscriptions/";
        if (!span.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        span = span[prefix.Length..];
        var end = span.IndexOfAny('/', '?');
        var id = (end < 0 ? span : span[..end]).ToString();
        return id.Length == 0 ? null : id;
    }

    /// <summary>
    /// Estimates what deploying <paramref name="connectors"/> costs under the limits, per subscription (read from each
    /// connector's resource id; connectors without one are counted under <see cref="LimitScopeEstimate.Unscoped"/>, which
    /// no limit applies to). A subscription's time is the longer of its writes' and its reads' need beyond a full bucket:
    /// <c>max(0, (requests - burst) / refill per second)</c>.
    /// </summary>
    /// <param name="connectors">The connectors a rollout would deploy.</param>
    /// <param name="costPerConnector">The ARM requests one connector costs (<see cref="ArmRequestCost.Kudu"/>, <see cref="ArmRequestCost.RunFromPackage"/>).</param>
    /// <returns>The estimate, ordered by subscription.</returns>
    public DeploymentLimitEstimate Estimate(IEnumerable<ConnectorTarget> connectors, ArmRequestCost costPerConnector)
    {
        ArgumentNullException.ThrowIfNull(connectors);
        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var connector in connectors)
        {
            var scope = SubscriptionOf(connector.ResourceId) ?? LimitScopeEstimate.Unscoped;
            counts[scope] = counts.GetValueOrDefault(scope) + 1;
        }

        static TimeSpan Need(long requests, int burst, double refillPerSecond) =>
            requests <= burst ? TimeSpan.Zero : TimeSpan.FromSeconds((requests - burst) / refillPerSecond);

        return new DeploymentLimitEstimate([.. counts
            .OrderBy(c => c.Key, StringComparer.OrdinalIgnoreCase)
            .Select(c =>
            {
                long writes = (long)c.Value * costPerConnector.Writes;
                long reads = (long)c.Value * costPerConnector.Reads;
                if (c.Key == LimitScopeEstimate.Unscoped)
                {
                    return new LimitScopeEstimate(c.Key, c.Value, writes, reads, TimeSpan.Zero, c.Value);
                }

                var need = Need(writes, _options.WriteBurst, _options.WriteRefillPerSecond);
                var readNeed = Need(reads, _options.ReadBurst, _options.ReadRefillPerSecond);
                return new LimitScopeEstimate(
                    c.Key,
                    c.Value,
                    writes,
                    reads,
                    need > readNeed ? need : readNeed,
                    Math.Min(c.Value, _options.MaxConcurrentDeploymentsPerSubscription));
            })]);
    }

    /// <summary>Gets when the subscription's shared pause ends, or <see langword="null"/> when it is not paused.</summary>
    /// <param name="subscriptionId">The subscription.</param>
    /// <returns>The end of the pause.</returns>
    public DateTimeOffset? PausedUntil(string subscriptionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        if (!_subscriptions.TryGetValue(subscriptionId, out var subscription))
        {
            return null;
        }

        lock (subscription)
        {
            return subscription.PausedUntil > _time.GetUtcNow() ? subscription.PausedUntil : null;
        }
    }

    /// <summary>Waits until one request of the subscription may be sent: after any shared pause, with a token of its bucket.</summary>
    /// <param name="subscriptionId">The subscription.</param>
    /// <param name="isWrite">Whether the request is a write (PUT, POST, PATCH, DELETE) rather than a read.</param>
    /// <param name="cancellationToken">Cancels the wait (the token taken is not given back).</param>
    /// <returns>A task that completes when the request may go.</returns>
    public async ValueTask AcquireAsync(string subscriptionId, bool isWrite, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var subscription = Of(subscriptionId);
        var reserved = false;
        while (true)
        {
            TimeSpan wait;
            lock (subscription)
            {
                var now = _time.GetUtcNow();
                if (subscription.PausedUntil > now)
                {
                    wait = subscription.PausedUntil - now;
                }
                else if (reserved)
                {
                    return;
                }
                else
                {
                    wait = (isWrite ? subscription.Writes : subscription.Reads).Reserve(now);
                    reserved = true;
                    if (wait <= TimeSpan.Zero)
                    {
                        return;
                    }
                }
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Pauses every caller of the subscription for <paramref name="retryAfter"/> plus a random jitter of up to
    /// <see cref="ArmSubscriptionThrottleOptions.MaxRetryAfterJitter"/>, and empties its buckets (ARM's are empty too).
    /// A pause never shortens one already running.
    /// </summary>
    /// <param name="subscriptionId">The subscription that saw a 429.</param>
    /// <param name="retryAfter">The answer's <c>Retry-After</c>, or <see langword="null"/> for <see cref="ArmSubscriptionThrottleOptions.DefaultRetryAfter"/>.</param>
    public void Pause(string subscriptionId, TimeSpan? retryAfter)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var subscription = Of(subscriptionId);
        var delay = (retryAfter ?? _options.DefaultRetryAfter) + Jitter();
        DateTimeOffset until;
        lock (subscription)
        {
            var now = _time.GetUtcNow();
            until = now + delay;
            if (until <= subscription.PausedUntil)
            {
                return;
            }

            subscription.PausedUntil = until;
            subscription.Writes.Empty(until);
            subscription.Reads.Empty(until);
        }

        Log.SubscriptionPaused(_logger, subscriptionId, (long)delay.TotalMilliseconds);
    }

    /// <summary>
    /// Creates the pipeline policy that meters every try of a request to <paramref name="armEndpoint"/> and turns its 429
    /// into the subscription's shared pause; add it as a per-retry policy of an Azure.Core pipeline. The App Service
    /// adapters add it themselves when <see cref="AppServiceOptions.SubscriptionThrottle"/> is set.
    /// </summary>
    /// <param name="armEndpoint">The ARM endpoint; requests to other hosts pass unmetered.</param>
    /// <returns>The policy.</returns>
    public HttpPipelinePolicy CreatePipelinePolicy(Uri armEndpoint)
    {
        ArgumentNullException.ThrowIfNull(armEndpoint);
        return new ThrottlePolicy(this, armEndpoint);
    }

    internal HttpPipelinePolicy CreatePolicy(Uri armEndpoint) => CreatePipelinePolicy(armEndpoint);

    private TimeSpan Jitter()
    {
        var max = _options.MaxRetryAfterJitter;
        if (max <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        double sample;
        lock (_random)
        {
            sample = _random.NextDouble();
        }

        return TimeSpan.FromTicks((long)(max.Ticks * sample));
    }

    private Subscription Of(string subscriptionId) =>
        _subscriptions.GetOrAdd(subscriptionId, static (_, self) => new Subscription(self._options, self._time.GetUtcNow()), this);

    /// <summary>Reads a 429's <c>Retry-After</c> (seconds or an HTTP date) or <c>retry-after-ms</c>.</summary>
    internal static TimeSpan? RetryAfterOf(Response response, DateTimeOffset now)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.TryGetValue("Retry-After", out var value))
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                return date > now ? date - now : TimeSpan.Zero;
            }
        }

        return null;
    }

    private sealed class Subscription(ArmSubscriptionThrottleOptions options, DateTimeOffset now)
    {
        public Bucket Writes { get; } = new(options.WriteBurst, options.WriteRefillPerSecond, now);

        public Bucket Reads { get; } = new(options.ReadBurst, options.ReadRefillPerSecond, now);

        public DateTimeOffset PausedUntil { get; set; } = DateTimeOffset.MinValue;
    }

    /// <summary>A token bucket that hands out reservations: a caller takes a token now and waits until the bucket has refilled it.</summary>
    private sealed class Bucket(int burst, double refillPerSecond, DateTimeOffset now)
    {
        private double _tokens = burst;
        private DateTimeOffset _last = now;

        /// <summary>Takes one token; returns how long to wait until it is really there (zero when it is). Called under the subscription's lock.</summary>
        public TimeSpan Reserve(DateTimeOffset now)
        {
            Refill(now);
            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / refillPerSecond);
        }

        /// <summary>Starts the bucket empty at <paramref name="at"/> (outstanding reservations stay owed).</summary>
        public void Empty(DateTimeOffset at)
        {
            _tokens = Math.Min(_tokens, 0);
            _last = at > _last ? at : _last;
        }

        private void Refill(DateTimeOffset now)
        {
            if (now > _last)
            {
                _tokens = Math.Min(burst, _tokens + ((now - _last).TotalSeconds * refillPerSecond));
                _last = now;
            }
        }
    }

    /// <summary>Meters each try of a request to the ARM endpoint and turns its 429 into the subscription's shared pause.</summary>
    private sealed class ThrottlePolicy(ArmSubscriptionThrottle throttle, Uri armEndpoint) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline, async: false).AsTask().GetAwaiter().GetResult();

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline, async: true);

        private async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
        {
            var uri = message.Request.Uri;
            var subscription = string.Equals(uri.Host, armEndpoint.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == armEndpoint.Port
                ? SubscriptionOf(uri.Path)
                : null;
            if (subscription is not null)
            {
                var method = message.Request.Method;
                var isWrite = method != RequestMethod.Get && method != RequestMethod.Head;
                await throttle.AcquireAsync(subscription, isWrite, message.CancellationToken).ConfigureAwait(false);
            }

            if (async)
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            }
            else
            {
                ProcessNext(message, pipeline);
            }

            if (subscription is not null && message.HasResponse && message.Response.Status == 429)
            {
                throttle.Pause(subscription, RetryAfterOf(message.Response, throttle._time.GetUtcNow()));
            }
        }
    }
}

/// <summary>
/// A rollout policy that wraps another (the parallel policy) and lets at most
/// <see cref="ArmSubscriptionThrottleOptions.MaxConcurrentDeploymentsPerSubscription"/> connectors of one subscription be
/// deployed at the same time. The subscription comes from the connector's resource id; a connector without one is not limited.
/// </summary>
/// <remarks>
/// The connectors reach the inner policy only when their subscription has a free slot: one waiting for its subscription
/// is held back here (in the order the inventory gave it), never in one of the inner policy's slots, so a busy
/// subscription does not hold up the others. At most <see cref="MaxHeldBack"/> connectors are held back; beyond that the
/// inventory is read on only as slots free up.
/// </remarks>
public sealed class SubscriptionThrottledRolloutPolicy : IRolloutPolicy
{
    /// <summary>The most connectors held back while their subscriptions are busy, 100,000.</summary>
    public const int MaxHeldBack = 100_000;

    private readonly IRolloutPolicy _inner;
    private readonly int _perSubscription;

    /// <summary>Creates the policy.</summary>
    /// <param name="inner">The policy that fans the connectors out.</param>
    /// <param name="throttle">The per-subscription throttle, whose options bound the deployments per subscription.</param>
    public SubscriptionThrottledRolloutPolicy(IRolloutPolicy inner, ArmSubscriptionThrottle throttle)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(throttle);
        _inner = inner;
        _perSubscription = throttle.Options.MaxConcurrentDeploymentsPerSubscription;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(
        IAsyncEnumerable<ConnectorTarget> connectors,
        Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectors);
        ArgumentNullException.ThrowIfNull(connectorStep);
        var released = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        return _inner.ExecuteAsync(
            AdmitAsync(connectors, released.Reader, cancellationToken),
            async (connector, token) =>
            {
                try
                {
                    return await connectorStep(connector, token).ConfigureAwait(false);
                }
                finally
                {
                    if (ArmSubscriptionThrottle.SubscriptionOf(connector.ResourceId) is { } subscription)
                    {
                        released.Writer.TryWrite(subscription);
                    }
                }
            },
            cancellationToken);
    }

    /// <summary>Yields each connector when its subscription has a slot; the slot is given back through <paramref name="released"/>.</summary>
    private async IAsyncEnumerable<ConnectorTarget> AdmitAsync(
        IAsyncEnumerable<ConnectorTarget> connectors,
        ChannelReader<string> released,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var active = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var waiting = new Dictionary<string, Queue<ConnectorTarget>>(StringComparer.OrdinalIgnoreCase);
        var heldBack = 0;
        await using var source = connectors.GetAsyncEnumerator(cancellationToken);
        var sourceDone = false;
        while (true)
        {
            // Slots given back first: the connectors held back longest go next.
            while (released.TryRead(out var freed))
            {
                if (waiting.TryGetValue(freed, out var queue) && queue.Count > 0)
                {
                    heldBack--;
                    yield return queue.Dequeue();
                }
                else
                {
                    active[freed]--;
                }
            }

            if (!sourceDone && heldBack < MaxHeldBack)
            {
                if (!await source.MoveNextAsync().ConfigureAwait(false))
                {
                    sourceDone = true;
                    continue;
                }

                var connector = source.Current;
                var subscription = ArmSubscriptionThrottle.SubscriptionOf(connector.ResourceId);
                if (subscription is null)
                {
                    yield return connector;
                    continue;
                }

                active.TryGetValue(subscription, out var running);
                if (running < _perSubscription)
                {
                    active[subscription] = running + 1;
                    yield return connector;
                }
                else
                {
                    if (!waiting.TryGetValue(subscription, out var queue))
                    {
                        waiting[subscription] = queue = new Queue<ConnectorTarget>();
                    }

                    queue.Enqueue(connector);
                    heldBack++;
                }

                continue;
            }

            if (heldBack == 0 && sourceDone)
            {
                yield break;
            }

            // Every connector read is either running or held back: wait for a slot.
            await released.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
