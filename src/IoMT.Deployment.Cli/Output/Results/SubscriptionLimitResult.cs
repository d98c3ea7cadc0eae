namespace IoMT.Deployment.Cli.Output;

/// <summary>One subscription (limit scope) of a dry-run plan: its connectors to deploy, the ARM requests they cost and the time those need under the limits, in milliseconds.</summary>
internal sealed record SubscriptionLimitResult(string Subscription, int Connectors, long ArmWrites, long ArmReads, long EstimatedMs, int MaxConcurrentDeployments)
{
    public static SubscriptionLimitResult Of(LimitScopeEstimate scope) =>
        new(scope.Scope, scope.Connectors, scope.Writes, scope.Reads, (long)scope.Duration.TotalMilliseconds, scope.MaxConcurrentDeployments);
}
