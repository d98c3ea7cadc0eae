using System.Diagnostics;
using IoMT.Deployment.Benchmarks.Fakes;
using IoMT.Deployment.Benchmarks.Harness;
using IoMT.Deployment.Kudu;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Benchmarks.Targets;

/// <summary>
/// Target 6: 10,000 connectors across 20 subscriptions against a simulated ARM that meters each subscription with
/// ARM's token buckets. The engine runs with the subscription throttle (<see cref="SubscriptionThrottledRolloutPolicy"/>
/// and the throttle's pipeline policy); its makespan is held against the throttle-bound ideal and its 429 share against
/// 1%. The same fleet without the throttle is the baseline.
/// </summary>
/// <remarks>
/// Time is compressed by <see cref="Scale"/> = 4 so the run stays under a minute: every simulated latency is divided by 4
/// (ARM call 80 ms → 20 ms, zip deploy 2 s → 500 ms, Retry-After 4 s → 1 s) and every refill rate multiplied by 4 (reads
/// 25/s → 100/s, writes 10/s → 40/s); bucket sizes are counts and stay (250 and 200). One wall-clock second is four
/// seconds of the real fleet; the ratios the target checks do not depend on the scale. The client's limits are the
/// throttle's defaults scaled the same way (reads 24/s → 96/s, writes 9.5/s → 38/s).
/// </remarks>
internal static class ThrottleTarget
{
    private const double Scale = 4;
    private const double IdealLimit = 1.10;
    private const double ThrottledShareLimit = 0.01;
    private const int Subscriptions = 20;
    private const int DeploymentsPerSubscription = 50;
    private const int EngineParallelism = 1024;
    private static readonly TimeSpan ArmLatency = TimeSpan.FromMilliseconds(80 / Scale);
    private static readonly TimeSpan DeployLatency = TimeSpan.FromMilliseconds(2000 / Scale);
    private static readonly SimulatedArm.Limits ArmLimits = new(250, 25 * Scale, 200, 10 * Scale, RetryAfterSeconds: 1);

    public static async Task<TargetResult> RunAsync(bool quick)
    {
        var connectors = quick ? 2000 : 10_000;
        var perSubscription = connectors / Subscriptions;

        // Each connector: a version read and a site read before the deploy, a version write, a verification read.
        var reads = 3 * perSubscription;
        var writes = perSubscription;
        var readBound = Math.Max(0, reads - ArmLimits.ReadBurst) / ArmLimits.ReadRefill;
        var writeBound = Math.Max(0, writes - ArmLimits.WriteBurst) / ArmLimits.WriteRefill;
        // The bucket bound, plus the one connector chain the engine cannot overlap with it: verification starts when the
        // last deployment ended, so the last connector's reads, deploy and write precede the last verification reads.
        var chain = (4 * ArmLatency) + DeployLatency;
        var ideal = TimeSpan.FromSeconds(Math.Max(readBound, writeBound)) + chain;

        using var delay = new PreciseDelay();
        await RunAsync(delay, 400, throttled: true); // warm-up: JIT, thread pool
        var withThrottle = await RunAsync(delay, connectors, throttled: true);
        var baseline = await RunAsync(delay, connectors, throttled: false);

        var vsIdeal = withThrottle.Elapsed / ideal;
        var share = withThrottle.Throttled / (double)withThrottle.Requests;
        var pass = vsIdeal <= IdealLimit && share <= ThrottledShareLimit;
        var result = new TargetResult(
            6,
            "Subscription throttle",
            $"{Fmt.X(vsIdeal)} ideal, {Fmt.N(share * 100, "0.00")}% 429",
            $"{IdealLimit:0.00}x ideal, {ThrottledShareLimit * 100:0}% 429",
            TargetResult.Verdict(pass),
            $"{connectors} connectors in {Subscriptions} subscriptions, time compressed {Scale}x: throttled {Fmt.Ms(withThrottle.Elapsed)} ({withThrottle.Throttled} 429s of {withThrottle.Requests} requests), ideal {Fmt.Ms(ideal)}; "
            + $"throttle off (baseline) {Fmt.Ms(baseline.Elapsed)} ({baseline.Throttled} 429s of {baseline.Requests} requests, {Fmt.N(baseline.Throttled * 100.0 / baseline.Requests, "0.0")}%)");
        result.Details.Add($"ideal = max(reads ({reads} - burst {ArmLimits.ReadBurst}) / {ArmLimits.ReadRefill}/s, writes ({writes} - burst {ArmLimits.WriteBurst}) / {ArmLimits.WriteRefill}/s) per subscription + one connector's chain (4 ARM calls + zip deploy, {Fmt.Ms(chain)}) = {Fmt.Ms(ideal)}");
        result.Details.Add($"simulated ARM per subscription: reads bucket {ArmLimits.ReadBurst} refill {ArmLimits.ReadRefill}/s, writes bucket {ArmLimits.WriteBurst} refill {ArmLimits.WriteRefill}/s, Retry-After {ArmLimits.RetryAfterSeconds} s; latency ARM {Fmt.Ms(ArmLatency)}, zip deploy {Fmt.Ms(DeployLatency)} (Azure's limits and typical latencies with time compressed {Scale}x)");
        result.Details.Add($"client: throttle defaults scaled {Scale}x (reads 250 + {24 * Scale}/s, writes 200 + {9.5 * Scale}/s, jitter up to {Fmt.Ms(TimeSpan.FromSeconds(1 / Scale))}), {DeploymentsPerSubscription} deployments per subscription, engine parallelism {EngineParallelism} (the policy hands a connector to it only when its subscription has a slot); Azure.Core retries (up to 100, honouring Retry-After)");
        result.Details.Add($"baseline: the same engine, fleet and pipeline without the throttle (no buckets, no shared pause, no per-subscription bound)");
        return result;
    }

    private static async Task<(TimeSpan Elapsed, long Requests, long Throttled)> RunAsync(PreciseDelay delay, int connectors, bool throttled)
    {
        var arm = new SimulatedArm(delay, ArmLatency, ArmLimits);
        var throttle = throttled
            ? new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions
            {
                ReadBurst = 250,
                ReadRefillPerSecond = 24 * Scale,
                WriteBurst = 200,
                WriteRefillPerSecond = 9.5 * Scale,
                MaxConcurrentDeploymentsPerSubscription = DeploymentsPerSubscription,
                MaxRetryAfterJitter = TimeSpan.FromSeconds(1 / Scale),
            }))
            : null;
        var fleet = new ThrottledFleet(connectors, Subscriptions, arm, throttle, delay, DeployLatency);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.ClearProviders());
        services.AddSingleton<IArtifactSource>(new InMemoryArtifacts().Add(SimulatedDeployment.NewBuild.ToString()));
        var versions = new InMemoryVersionStore(VersionState.Empty with { Current = SimulatedDeployment.OldBuild });
        services.AddSingleton<IVersionStore>(versions);
        services.AddSingleton<IConnectorInventory>(fleet);
        services.AddSingleton<IConnectorDeployer>(fleet);
        services.AddIoMTDeployment(o => o.MaxParallelism = EngineParallelism);
        if (throttle is not null)
        {
            services.AddSingleton(throttle);
            services.AddSingleton<IRolloutPolicy>(sp => new SubscriptionThrottledRolloutPolicy(new ParallelRolloutPolicy(sp.GetRequiredService<IOptions<RolloutOptions>>()), throttle));
        }

        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<IRolloutEngine>();
        Measure.FullCollect();
        var clock = Stopwatch.StartNew();
        var report = await engine.UpdateAsync().ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        if (!report.Succeeded || fleet.OnNewBuild() != connectors || versions.State.Current != SimulatedDeployment.NewBuild)
        {
            throw new InvalidOperationException($"The throttled rollout did not do its work: succeeded {report.Succeeded}, {fleet.OnNewBuild()} of {connectors} on the new build.");
        }

        return (elapsed, arm.Requests, arm.Throttled);
    }
}
