namespace IoMT.Deployment;

/// <summary>One scope of a <see cref="DeploymentLimitEstimate"/>: the connectors it holds and what they cost.</summary>
/// <param name="Scope">The scope's name (an Azure subscription id), or <see cref="Unscoped"/> for connectors that name none.</param>
/// <param name="Connectors">How many connectors would be deployed in it.</param>
/// <param name="Writes">The write requests their deployments send to the limited service.</param>
/// <param name="Reads">The read requests their deployments send to it.</param>
/// <param name="Duration">The least time those requests need under the scope's limits (zero while they fit the burst).</param>
/// <param name="MaxConcurrentDeployments">How many of its connectors may be deployed at the same time.</param>
public sealed record LimitScopeEstimate(string Scope, int Connectors, long Writes, long Reads, TimeSpan Duration, int MaxConcurrentDeployments)
{
    /// <summary>The scope of connectors that name none (no resource id), <c>(none)</c>; no limit applies to them.</summary>
    public const string Unscoped = "(none)";
}
