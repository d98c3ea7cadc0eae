namespace IoMT.Deployment;

/// <summary>What deploying a set of connectors costs under a platform's limits (<see cref="IDeploymentLimits"/>).</summary>
/// <param name="Scopes">One entry per scope the limits apply to (an Azure subscription), ordered by scope.</param>
public sealed record DeploymentLimitEstimate(IReadOnlyList<LimitScopeEstimate> Scopes)
{
    /// <summary>Gets the time the limits impose: the longest scope's, as scopes are limited independently.</summary>
    public TimeSpan Duration => Scopes.Count == 0 ? TimeSpan.Zero : Scopes.Max(s => s.Duration);
}
