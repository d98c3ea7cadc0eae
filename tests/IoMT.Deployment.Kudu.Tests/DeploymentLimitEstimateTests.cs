using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu.Tests;

public sealed class DeploymentLimitEstimateTests
{
    private static ConnectorTarget Connector(string subscription, int i) =>
        new($"{subscription}-{i}", $"/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Web/sites/app-{i}");

    private static IEnumerable<ConnectorTarget> Fleet(params (string Subscription, int Count)[] subscriptions) =>
        subscriptions.SelectMany(s => Enumerable.Range(0, s.Count).Select(i => Connector(s.Subscription, i)));

    [Fact]
    public void Kudu_fleet_in_three_subscriptions_is_bounded_by_each_subscriptions_write_bucket_under_the_defaults()
    {
        var throttle = new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions()));
        var limits = new ArmDeploymentLimits(throttle, ArmRequestCost.Kudu);

        var estimate = limits.Estimate(Fleet(("sub-c", 1000), ("sub-a", 10), ("sub-b", 500)));

        // Kudu: 4 writes and 1 read per connector. Defaults: writes burst 200, refill 9.5/s; reads burst 250, refill 24/s.
        // sub-a:   10 connectors ->   40 writes,   10 reads: both within the burst -> 0 s.
        // sub-b:  500 connectors -> 2000 writes: (2000 - 200) / 9.5 = 189.47 s; 500 reads: (500 - 250) / 24 = 10.42 s -> 189.47 s.
        // sub-c: 1000 connectors -> 4000 writes: (4000 - 200) / 9.5 = 400 s;   1000 reads: (1000 - 250) / 24 = 31.25 s -> 400 s.
        // The fleet: the slowest subscription (they are limited independently) -> 400 s.
        Assert.Equal(["sub-a", "sub-b", "sub-c"], estimate.Scopes.Select(s => s.Scope));
        Assert.Equal([10, 500, 1000], estimate.Scopes.Select(s => s.Connectors));
        Assert.Equal([40L, 2000L, 4000L], estimate.Scopes.Select(s => s.Writes));
        Assert.Equal([10L, 500L, 1000L], estimate.Scopes.Select(s => s.Reads));
        Assert.Equal(0, estimate.Scopes[0].Duration.TotalSeconds);
        Assert.Equal(1800 / 9.5, estimate.Scopes[1].Duration.TotalSeconds, precision: 3);
        Assert.Equal(400, estimate.Scopes[2].Duration.TotalSeconds, precision: 3);
        Assert.Equal(400, estimate.Duration.TotalSeconds, precision: 3);
        Assert.Equal([10, 50, 50], estimate.Scopes.Select(s => s.MaxConcurrentDeployments));
    }

    [Fact]
    public void Run_from_package_costs_six_writes_and_a_read_heavy_custom_limit_can_dominate()
    {
        var throttle = new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions { ReadBurst = 1, ReadRefillPerSecond = 0.5 }));

        var kudu = throttle.Estimate(Fleet(("sub-a", 100)), ArmRequestCost.Kudu);
        var runFromPackage = throttle.Estimate(Fleet(("sub-a", 100)), ArmRequestCost.RunFromPackage);

        // Kudu: 400 writes -> (400 - 200) / 9.5 = 21.05 s; 100 reads -> (100 - 1) / 0.5 = 198 s: the reads bound it.
        Assert.Equal(198, kudu.Duration.TotalSeconds, precision: 3);

        // Run From Package: 600 writes -> (600 - 200) / 9.5 = 42.11 s, no reads.
        Assert.Equal(600L, runFromPackage.Scopes[0].Writes);
        Assert.Equal(0L, runFromPackage.Scopes[0].Reads);
        Assert.Equal(400 / 9.5, runFromPackage.Duration.TotalSeconds, precision: 3);
    }

    [Fact]
    public void Connectors_without_a_resource_id_are_grouped_as_none_and_not_limited()
    {
        var throttle = new ArmSubscriptionThrottle(Options.Create(new ArmSubscriptionThrottleOptions { WriteBurst = 1 }));

        var estimate = throttle.Estimate([new ConnectorTarget("local-1"), new ConnectorTarget("local-2"), Connector("sub-a", 1)], ArmRequestCost.Kudu);

        var none = Assert.Single(estimate.Scopes, s => s.Scope == LimitScopeEstimate.Unscoped);
        Assert.Equal(2, none.Connectors);
        Assert.Equal(TimeSpan.Zero, none.Duration);

        // sub-a: 4 writes against a bucket of 1 refilling 9.5/s -> 3 / 9.5 s.
        Assert.Equal(3 / 9.5, estimate.Scopes.Single(s => s.Scope == "sub-a").Duration.TotalSeconds, precision: 3);
    }
}
