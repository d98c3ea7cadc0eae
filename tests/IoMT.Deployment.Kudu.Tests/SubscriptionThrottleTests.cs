using System.Collections.Concurrent;
using IoMT.Deployment.Loopback;
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
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var throttle = Throttle(time, o =>
        {
            o.WriteBurst = 5;
            o.WriteRefillPerSecond = 2;
            o.ReadBurst = 10;
            o.ReadRefillPerSecond = 5;
        });
        var grants = new ConcurrentQueue<(string Subscription, bool Write, DateTimeOffset At)>();
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
                }));
            }
        }

        // Walk the fake clock in 50 ms steps until every call got its token.
        for (var step = 0; step < 400 && grants.Count < calls.Count; step++)
        {
            await WaitForQuietAsync(grants);
            time.Advance(TimeSpan.FromMilliseconds(50));
        }

        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
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
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var logger = new FakeLogger();
        var throttle = Throttle(time, logger: logger);

        throttle.Pause("sub-a", TimeSpan.FromSeconds(5));
        var paused = Enumerable.Range(0, 10).Select(i => throttle.AcquireAsync("sub-a", i % 2 == 0).AsTask()).ToList();
        var other = Enumerable.Range(0, 10).Select(i => throttle.AcquireAsync("sub-b", i % 2 == 0).AsTask()).ToList();

        await Task.WhenAll(other).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.All(paused, t => Assert.False(t.IsCompleted));
        Assert.Null(throttle.PausedUntil("sub-b"));
        Assert.Equal(time.GetUtcNow().AddSeconds(5), throttle.PausedUntil("sub-a"));

        time.Advance(TimeSpan.FromSeconds(4.9));
        await Task.Yield();
        Assert.All(paused, t => Assert.False(t.IsCompleted));

        // After the pause the subscription's buckets restart empty: one write per 1/9.5 s, one read per 1/24 s.
        time.Advance(TimeSpan.FromSeconds(0.1));
        for (var i = 0; i < 20 && paused.Any(t => !t.IsCompleted); i++)
        {
            await WaitForQuietAsync(new ConcurrentQueue<int>());
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        await Task.WhenAll(paused).WaitAsync(TimeSpan.FromSeconds(5));
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
        await using var host = await AppServiceHost.StartAsync(new AppServiceHostOptions { RetryAfterSeconds = 3 });
        var throttle = new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions { MaxRetryAfterJitter = TimeSpan.FromMilliseconds(100) }));
        var (subA, subB) = (NewSubscription(), NewSubscription());
        var appsA = Enumerable.Range(0, 4).Select(i => host.AddApp(subA, "rg", $"pa-{i}-{Guid.NewGuid():N}"[..12])).ToList();
        var appsB = Enumerable.Range(0, 4).Select(i => host.AddApp(subB, "rg", $"pb-{i}-{Guid.NewGuid():N}"[..12])).ToList();
        appsA[0].Health.Faults.Enqueue(HealthFault.TooManyRequests);
        var options = new FunctionsHostStatusSignalOptions { SubscriptionThrottle = throttle, MaxRetries = 3 };
        Configure(options, host);
        options.MaxRetryDelay = TimeSpan.FromSeconds(5);
        var signal = new FunctionsHostStatusSignal(Options.Create(options), host.Credential);

        var first = signal.GetHealthAsync(FunctionsHostStatusSignalTests.Query(appsA[0])).AsTask();
        // The pause starts when the client has read the 429 (Retry-After 3 s, so polling cannot miss it; long, so a loaded machine cannot blur the two sides).
        await WaitUntilAsync(() => throttle.PausedUntil(subA) is not null, "the shared pause after the 429");
        var throttledAt = host.RequestLog.First(r => r.StatusCode == 429).At;
        Assert.Null(throttle.PausedUntil(subB));
        var others = appsA.Skip(1).Concat(appsB).Select(a => signal.GetHealthAsync(FunctionsHostStatusSignalTests.Query(a)).AsTask()).ToList();
        var results = await Task.WhenAll(others.Prepend(first));

        Assert.All(results, r => Assert.Equal(HealthStatus.Healthy, r.Status));
        var log = host.RequestLog.Where(r => r.Route == AppServiceRoute.HostStatus && r.StatusCode == 200).ToList();
        Assert.All(log.Where(r => appsA.Any(a => a.Name == r.App)), r => Assert.True(r.At - throttledAt >= TimeSpan.FromSeconds(2.95), $"{r.App} was read {(r.At - throttledAt).TotalMilliseconds} ms after the 429"));
        Assert.All(log.Where(r => appsB.Any(a => a.Name == r.App)), r => Assert.True(r.At - throttledAt < TimeSpan.FromSeconds(2.5), $"{r.App} of the other subscription waited {(r.At - throttledAt).TotalMilliseconds} ms"));
    }

    [Fact]
    public async Task The_rollout_policy_bounds_concurrent_deployments_per_subscription()
    {
        var throttle = Throttle(TimeProvider.System, o => o.MaxConcurrentDeploymentsPerSubscription = 3);
        var policy = new SubscriptionThrottledRolloutPolicy(new ParallelRolloutPolicy(Options.Create(new RolloutOptions { MaxParallelism = 32 })), throttle);
        var running = new ConcurrentDictionary<string, int>();
        var peak = new ConcurrentDictionary<string, int>();
        var connectors = Enumerable.Range(0, 24)
            .Select(i => new ConnectorTarget($"c{i}", $"/subscriptions/sub-{i % 2}/resourceGroups/rg/providers/Microsoft.Web/sites/c{i}"))
            .Append(new ConnectorTarget("local"))
            .ToList();

        var results = await policy.ExecuteAsync(connectors.ToAsyncEnumerable(), async (connector, ct) =>
        {
            var subscription = ArmSubscriptionThrottle.SubscriptionOf(connector.ResourceId) ?? "none";
            var now = running.AddOrUpdate(subscription, 1, static (_, n) => n + 1);
            peak.AddOrUpdate(subscription, now, (_, p) => Math.Max(p, now));
            await Task.Delay(20, ct);
            running.AddOrUpdate(subscription, 0, static (_, n) => n - 1);
            return new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Updated };
        });

        Assert.Equal(25, results.Count);
        Assert.Equal(3, peak["sub-0"]);
        Assert.Equal(3, peak["sub-1"]);
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

    /// <summary>Lets the thread pool run the continuations a clock step released (no sleep decides a result).</summary>
    private static async Task WaitForQuietAsync<T>(ConcurrentQueue<T> progress)
    {
        var before = -1;
        for (var i = 0; i < 50 && before != progress.Count; i++)
        {
            before = progress.Count;
            await Task.Delay(1);
        }
    }
}
