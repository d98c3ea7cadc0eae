namespace IoMT.Deployment.Kudu;

/// <summary>
/// The per-subscription ARM limits of <see cref="ArmSubscriptionThrottle"/> as the engine's <see cref="IDeploymentLimits"/>:
/// a dry run's plan shows, per subscription, the connectors, the ARM requests their deployments cost and the time those
/// need under the buckets. Registered by <c>AddArmSubscriptionThrottle</c>.
/// </summary>
/// <param name="throttle">The throttle whose limits apply.</param>
/// <param name="costPerConnector">What one connector costs with the registered deployer.</param>
public sealed class ArmDeploymentLimits(ArmSubscriptionThrottle throttle, ArmRequestCost costPerConnector) : IDeploymentLimits
{
    private readonly ArmSubscriptionThrottle _throttle = throttle ?? throw new ArgumentNullException(nameof(throttle));

    /// <summary>Gets what one connector costs.</summary>
    public ArmRequestCost CostPerConnector => costPerConnector;

    /// <inheritdoc/>
    public DeploymentLimitEstimate Estimate(IEnumerable<ConnectorTarget> connectors) => _throttle.Estimate(connectors, costPerConnector);
}
