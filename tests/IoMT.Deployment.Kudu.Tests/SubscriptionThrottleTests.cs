using System.Collections.Concurrent;
using IoMT.Deployment.Loopback;
using IoMT.Deployment.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

public sealed class SubscriptionThrottleTests
{
    private static ArmSubscriptionThrottle Throttle(TimeProvider time, Action<ArmSubscriptionThrottleOptions>? configure = null, FakeLogger? logger = null)
    {
        var options = new ArmSubscriptionThrottleOptions { MaxRetryAfterJitter = TimeSpan.Zero };
        configure?.Invoke(options);
        return new ArmSubscriptionThrottle(Options.Create(options), time, logger, new Random(7));
    }

    [Fact]
    public void The_subscription_is_read_from_resource_ids_and_request_paths()
    {
        Assert.Equal("11111111-2222-3333-4444-555555555555", ArmSubscriptionThrottle.SubscriptionOf("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Web/sites/a"));
        Assert.Equal("abc", ArmSubscriptionThrottle.SubscriptionOf("subscriptions/abc?api-version=1"));
        Assert.Null(ArmSubscriptionThrottle.SubscriptionOf("/providers/Microsoft.Web/sites"));
        Assert.Null(ArmSubscriptionThrottle.SubscriptionOf(null));
    }

    [Fact]
    public async Task Per_subscription_write_and_read_limits_are_never_exceeded_under_a_fake_clock()
    {
        var time = new SignallingTimeProvider();
        var throttle = Throttle(time, o =>
        {
            o.WriteBurst = 5;
            o.WriteRefillPerSecond = 2;
            o.ReadBurst = 10;
            o.ReadRefillPerSecond = 5;
        });
        var grants = new ConcurrentQueue<(string Subscription, bool Write, DateTimeOffset At)>();
        using var granted = new SemaphoreSlim(0);
        var calls = new List<Task>();
        foreach (var subscription in new[] { "sub-a", "sub-b" })
        {
            for (var i = 0; i < 30; i++)
            {
                var write = i % 2 == 0;
                calls.Add(Task.Run(async () =>
                {
                    await throttle.AcquireAsync(subscription, write);
                    grants.Enqueue((subscription, write, time.GetUtcNow()));
                    granted.Release();
                }));
            }
        }

        // Every call takes its token with the clock standing still: the bursts (5 writes, 10 reads per subscription) go
        // at once, each of the other 30 calls waits on the clock until its token is due.
        var dues = (await time.NextTimersAsync(30, Task.WhenAll(calls), "the calls beyond the bursts")).Order().ToList();
        await TakeAsync(granted, 30, "the bursts");

        // Walk the fake clock in 50 ms steps; after each, the calls whose tokens fell due go before the clock moves on.
        var taken = 0;
        while (taken < dues.Count)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            var due = dues.Count(d => time.Start + d <= time.GetUtcNow());
            await TakeAsync(granted, due - taken, "the calls due by " + (time.GetUtcNow() - time.Start));
            taken = due;
        }

        await Task.WhenAll(calls).WaitAsync(HangGuard);
        Assert.Equal(calls.Count, grants.Count);
        foreach (var group in grants.GroupBy(g => (g.Subscription, g.Write)))
        {
            var (burst, rate) = group.Key.Write ? (5, 2.0) : (10, 5.0);

            // Replay the grants against ARM's bucket: every one must find a token.
            var tokens = (double)burst;
            var last = time.Start;
            foreach (var grant in group.OrderBy(g => g.At))
            {
                tokens = Math.Min(burst, tokens + ((grant.At - last).TotalSeconds * rate));
                last = grant.At;
                Assert.True(tokens >= 1 - 1e-9, $"{group.Key}: a request at {grant.At:HH:mm:ss.fff} found {tokens:F3} tokens");
                tokens -= 1;
            }

            // 15 calls: the burst at once, the rest at the refill rate (within one clock step).
            var expected = TimeSpan.FromSeconds((15 - burst) / rate);
            Assert.InRange(group.Max(g => g.At) - time.Start, expected, expected + TimeSpan.FromMilliseconds(50));
        }
    }

    [Fact]
    public async Task A_429_pauses_every_caller_of_its_subscription_and_none_of_another()
    {
        var time = new SignallingTimeProvider();
        var logger = new FakeLogger();
        var throttle = Throttle(time, logger: logger);

        throttle.Pause("sub-a", TimeSpan.FromSeconds(5));
        var paused = Enumerable.Range(0, 10).Select(i => throttle.AcquireAsync("sub-a", i % 2 == 0).AsTask()).ToList();
        var other = Enumerable.Range(0, 10).Select(i => throttle.AcquireAsync("sub-b", i % 2 == 0).AsTask()).ToList();

        // The other subscription's callers go with the clock standing still; each caller of the paused one waits on the
        // clock for exactly the pause.
        await Task.WhenAll(other).WaitAsync(HangGuard);
        var waits = await time.NextTimersAsync(paused.Count, Task.WhenAll(paused), "the paused subscription's callers");
        Assert.All(waits, w => Assert.Equal(TimeSpan.FromSeconds(5), w));
        Assert.Null(throttle.PausedUntil("sub-b"));
        Assert.Equal(time.GetUtcNow().AddSeconds(5), throttle.PausedUntil("sub-a"));

        // No timer is due before the pause ends, so none of the callers can have gone.
        time.Advance(TimeSpan.FromMilliseconds(4900));
        Assert.All(paused, t => Assert.False(t.IsCompleted));

        // After the pause the subscription's buckets restart empty: with the clock standing still at the pause's end, the
        // five writes are due 1/9.5 s apart and the five reads 1/24 s apart.
        time.Advance(TimeSpan.FromMilliseconds(100));
        var resumed = await time.NextTimersAsync(paused.Count, Task.WhenAll(paused), "the callers after the pause");
        // (Task.Delay on a TimeProvider waits whole milliseconds, so each timer is the exact due time cut to the millisecond.)
        var expected = Enumerable.Range(1, 5).SelectMany(k => new[] { TimeSpan.FromSeconds(k / 9.5), TimeSpan.FromSeconds(k / 24.0) }).Order().ToList();
        Assert.Equal(expected.Count, resumed.Count);
        Assert.All(expected.Zip(resumed.Order()), p => Assert.InRange(p.Second, p.First - TimeSpan.FromMilliseconds(1), p.First));

        time.Advance(resumed.Max());
        await Task.WhenAll(paused).WaitAsync(HangGuard);
        var record = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 4050);
        Assert.Contains("sub-a", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_jitter_lengthens_a_pause_by_at_most_its_maximum_and_a_shorter_pause_never_shortens_a_longer_one()
    {
        var time = new FakeTimeProvider();
        var throttle = Throttle(time, o => o.MaxRetryAfterJitter = TimeSpan.FromSeconds(2));
        var start = time.GetUtcNow();

        throttle.Pause("sub", TimeSpan.FromSeconds(10));
        var until = throttle.PausedUntil("sub")!.Value;
        throttle.Pause("sub", TimeSpan.FromSeconds(1));

        Assert.InRange(until - start, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(12));
        Assert.Equal(until, throttle.PausedUntil("sub"));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_429_seen_through_the_ARM_pipeline_pauses_its_subscription_and_not_another()
    {
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions { RetryAfterSeconds = 1 });
        var time = new SignallingTimeProvider();
        var log = new LogProbe<ArmSubscriptionThrottle>();
        var throttle = new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions { MaxRetryAfterJitter = TimeSpan.Zero }), time, log);
        var (subA, subB) = (NewSubscription(), NewSubscription());
        var appsA = Enumerable.Range(0, 4).Select(i => host.AddApp(subA, "rg", $"pa-{i}-{Guid.NewGuid():N}"[..12])).ToList();
        var appsB = Enumerable.Range(0, 4).Select(i => host.AddApp(subB, "rg", $"pb-{i}-{Guid.NewGuid():N}"[..12])).ToList();
        appsA[0].Health.Faults.Enqueue(HealthFault.TooManyRequests);
        var options = new FunctionsHostStatusSignalOptions { SubscriptionThrottle = throttle, MaxRetries = 3 };
        Configure(options, host);
        var signal = new FunctionsHostStatusSignal(Options.Create(options), host.Credential);
        Task<ConnectorHealth> Read(AppServiceApp app) => signal.GetHealthAsync(FunctionsHostStatusSignalTests.Query(app)).AsTask();
        bool Answered(AppServiceApp app) => host.RequestLog.Any(r => r.Route == AppServiceRoute.HostStatus && r.App == app.Name && r.StatusCode == 200);

        var first = Read(appsA[0]);

        // The throttle logs the pause (4050) once it has set it, after the client read the 429: no polling.
        await log.WaitForAsync(4050, timeout: HangGuard);
        Assert.Equal(time.GetUtcNow().AddSeconds(1), throttle.PausedUntil(subA));
        Assert.Null(throttle.PausedUntil(subB));
        var othersA = appsA.Skip(1).Select(Read).ToList();
        var readsB = appsB.Select(Read).ToList();

        // The other subscription is read with the throttle's clock standing still, while this one is paused: each of
        // its callers (the first one's retry among them) waits on the clock for the whole pause, and none was answered.
        var resultsB = await Task.WhenAll(readsB).WaitAsync(HangGuard);
        var readsA = othersA.Prepend(first).ToList();
        var waits = await time.NextTimersAsync(readsA.Count, Task.WhenAll(readsA), "the paused subscription's reads");
        Assert.All(waits, w => Assert.Equal(TimeSpan.FromSeconds(1), w));
        Assert.All(appsB, a => Assert.True(Answered(a), $"{a.Name} of the other subscription was not read during the pause"));
        Assert.All(appsA, a => Assert.False(Answered(a), $"{a.Name} was read during its subscription's pause"));

        // The pause ends; the emptied buckets then hand out a token per wait, which the clock follows.
        time.Advance(TimeSpan.FromSeconds(1));
        await time.AdvanceOnEveryWaitAsync(Task.WhenAll(readsA), TimeSpan.FromSeconds(1));
        var resultsA = await Task.WhenAll(readsA);

        Assert.All(resultsA.Concat(resultsB), r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.All(appsA, a => Assert.True(Answered(a), $"{a.Name} was not read after the pause"));
        Assert.Single(host.RequestLog, r => r.StatusCode == 429);
    }

    [Fact]
    public async Task The_rollout_policy_bounds_concurrent_deployments_per_subscription()
    {
        // The inner policy records what the throttled policy admits, in order, and runs every step at once; each step
        // waits for the test to finish it. Nothing depends on timing: what is admitted is decided before anything ends.
        var throttle = Throttle(TimeProvider.System, o => o.MaxConcurrentDeploymentsPerSubscription = 3);
        var inner = new RecordingPolicy();
        var policy = new SubscriptionThrottledRolloutPolicy(inner, throttle);
        var connectors = Enumerable.Range(0, 24)
            .Select(i => new ConnectorTarget($"c{i}", $"/subscriptions/sub-{i % 2}/resourceGroups/rg/providers/Microsoft.Web/sites/c{i}"))
            .Append(new ConnectorTarget("local"))
            .ToList();
        var inventoryRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new ConcurrentDictionary<string, TaskCompletionSource>(StringComparer.Ordinal);
        var running = new ConcurrentDictionary<string, int>();
        var peak = new ConcurrentDictionary<string, int>();

        var run = policy.ExecuteAsync(Inventory(connectors, inventoryRead), async (connector, ct) =>
        {
            var subscription = ArmSubscriptionThrottle.SubscriptionOf(connector.ResourceId) ?? "none";
            var now = running.AddOrUpdate(subscription, 1, static (_, n) => n + 1);
            peak.AddOrUpdate(subscription, now, (_, p) => Math.Max(p, now));
            await finish.GetOrAdd(connector.Id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(ct);
            running.AddOrUpdate(subscription, 0, static (_, n) => n - 1);
            return new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Updated };
        });

        // The whole inventory is read while nothing has finished: three of each subscription and the connector without
        // one are admitted, the other eighteen held back.
        await inventoryRead.Task.WaitAsync(HangGuard);
        Assert.Equal(["c0", "c1", "c2", "c3", "c4", "c5", "local"], await inner.AdmittedAsync(7));
        Assert.Equal(7, inner.Admitted.Count);

        // Each connector that finishes frees its subscription's slot for the next one of that subscription, and only that.
        var next = new Dictionary<int, int> { [0] = 6, [1] = 7 };
        foreach (var done in new[] { "c0", "c3", "c1", "c2", "c6" })
        {
            var sub = int.Parse(done[1..], System.Globalization.CultureInfo.InvariantCulture) % 2;
            Finish(done);
            var admitted = await inner.AdmittedAsync(inner.Admitted.Count + 1);
            Assert.Equal($"c{next[sub]}", admitted[^1]);
            next[sub] += 2;
        }

        foreach (var connector in connectors)
        {
            Finish(connector.Id);
        }

        var results = await run.WaitAsync(HangGuard);
        Assert.Equal(25, results.Count);
        Assert.Equal(3, peak["sub-0"]);
        Assert.Equal(3, peak["sub-1"]);

        void Finish(string id) => finish.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private static async IAsyncEnumerable<ConnectorTarget> Inventory(IEnumerable<ConnectorTarget> connectors, TaskCompletionSource read)
    {
        foreach (var connector in connectors)
        {
            await Task.Yield();
            yield return connector;
        }

        read.TrySetResult();
    }

    /// <summary>An inner policy that records each connector as it is admitted and starts its step at once.</summary>
    private sealed class RecordingPolicy : IRolloutPolicy
    {
        private readonly Lock _lock = new();
        private readonly List<string> _admitted = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<string> Admitted
        {
            get
            {
                lock (_lock)
                {
                    return [.. _admitted];
                }
            }
        }

        /// <summary>Completes with the admissions once there are at least <paramref name="count"/>.</summary>
        public async Task<IReadOnlyList<string>> AdmittedAsync(int count)
        {
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_admitted.Count >= count)
                    {
                        return [.. _admitted];
                    }

                    changed = _changed.Task;
                }

                await changed.WaitAsync(HangGuard);
            }
        }

        public async Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(
            IAsyncEnumerable<ConnectorTarget> connectors,
            Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep,
            CancellationToken cancellationToken = default)
        {
            var steps = new List<Task<ConnectorResult>>();
            await foreach (var connector in connectors.WithCancellation(cancellationToken))
            {
                TaskCompletionSource changed;
                lock (_lock)
                {
                    _admitted.Add(connector.Id);
                    changed = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                changed.TrySetResult();
                steps.Add(Task.Run(() => connectorStep(connector, cancellationToken).AsTask(), cancellationToken));
            }

            return await Task.WhenAll(steps);
        }
    }

    [Fact]
    public async Task Connectors_of_a_busy_subscription_wait_outside_the_parallel_policys_slots()
    {
        // Inner parallelism 3, one slot per subscription; the inventory lists sub-0's connectors first. Were they waiting
        // inside the inner slots, sub-1 could not start until sub-0's ran one by one.
        var throttle = Throttle(TimeProvider.System, o => o.MaxConcurrentDeploymentsPerSubscription = 1);
        var policy = new SubscriptionThrottledRolloutPolicy(new ParallelRolloutPolicy(Options.Create(new RolloutOptions { MaxParallelism = 3 })), throttle);
        var connectors = Enumerable.Range(0, 6).Select(i => new ConnectorTarget($"a{i}", $"/subscriptions/sub-0/resourceGroups/rg/providers/Microsoft.Web/sites/a{i}"))
            .Concat(Enumerable.Range(0, 2).Select(i => new ConnectorTarget($"b{i}", $"/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Web/sites/b{i}")))
            .ToList();
        var blockSub0 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sub1Done = 0;
        var sub1Finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new ConcurrentQueue<string>();

        var run = policy.ExecuteAsync(connectors.ToAsyncEnumerable(), async (connector, ct) =>
        {
            order.Enqueue(connector.Id);
            if (connector.Id.StartsWith('a'))
            {
                await blockSub0.Task.WaitAsync(ct);
            }
            else if (Interlocked.Increment(ref sub1Done) == 2)
            {
                sub1Finished.SetResult();
            }

            return new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Updated };
        });

        // Both of sub-1's connectors finish while sub-0's first one is still running.
        await sub1Finished.Task.WaitAsync(HangGuard);
        Assert.Equal(["a0", "b0", "b1"], order.Order(StringComparer.Ordinal).ToArray());
        blockSub0.SetResult();
        var results = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(8, results.Count);
        Assert.Equal(connectors.Select(c => c.Id).Order(), results.Select(r => r.Connector.Id).Order());
    }

    [Fact]
    public void AddArmSubscriptionThrottle_puts_one_throttle_on_every_App_Service_pipeline_and_wraps_the_rollout_policy()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var builder = services.AddIoMTDeployment();
        builder.UseCredential(new LoopbackTokenCredential(TimeProvider.System))
            .AddKuduDeployer().AddFunctionsHostStatusSignal().AddArmSubscriptionThrottle(o => o.WriteRefillPerSecond = 5).AddArmSubscriptionThrottle();

        using var provider = services.BuildServiceProvider();
        var throttle = provider.GetRequiredService<ArmSubscriptionThrottle>();
        Assert.Equal(5, throttle.Options.WriteRefillPerSecond);
        Assert.Same(throttle, provider.GetRequiredService<IOptions<KuduDeployerOptions>>().Value.SubscriptionThrottle);
        Assert.Same(throttle, provider.GetRequiredService<IOptions<FunctionsHostStatusSignalOptions>>().Value.SubscriptionThrottle);
        Assert.IsType<SubscriptionThrottledRolloutPolicy>(provider.GetRequiredService<IRolloutPolicy>());
        Assert.Contains(provider.GetServices<IConnectorHealthSignal>(), s => s is FunctionsHostStatusSignal);
    }

    [Fact]
    public void Throttle_options_are_validated_at_start_up_naming_the_setting()
    {
        var services = new ServiceCollection();
        services.AddIoMTDeployment().AddArmSubscriptionThrottle(o => o.WriteRefillPerSecond = 0);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Equal(["IoMTDeployment:ArmThrottle:WriteRefillPerSecond must be between 0.001 and 100000."], ex.Failures);
    }

    /// <summary>Takes <paramref name="count"/> releases of <paramref name="granted"/>, each within the hang guard.</summary>
    private static async Task TakeAsync(SemaphoreSlim granted, int count, string what)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(await granted.WaitAsync(HangGuard), $"{what}: {count - i} of {count} were never granted within {HangGuard} (the hang guard).");
        }
    }
}
