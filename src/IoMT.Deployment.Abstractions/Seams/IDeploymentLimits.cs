namespace IoMT.Deployment;

/// <summary>
/// The limits a deployment platform puts on a rollout beyond the engine's own parallelism (Azure Resource Manager's
/// per-subscription request buckets, for example), as an estimate a dry run can show. Optional: without one registered,
/// a plan's estimate counts parallelism and bakes only.
/// </summary>
public interface IDeploymentLimits
{
    /// <summary>Estimates what deploying <paramref name="connectors"/> costs under the limits, per scope the limits apply to.</summary>
    /// <param name="connectors">The connectors a rollout would deploy.</param>
    /// <returns>The estimate; nothing is sent anywhere to make it.</returns>
    DeploymentLimitEstimate Estimate(IEnumerable<ConnectorTarget> connectors);
}
