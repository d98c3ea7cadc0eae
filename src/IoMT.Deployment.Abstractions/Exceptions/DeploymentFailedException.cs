namespace IoMT.Deployment;

/// <summary>A deployment to one connector failed.</summary>
public sealed class DeploymentFailedException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="connectorId">The connector.</param>
    /// <param name="message">What failed. Never a secret.</param>
    /// <param name="innerException">The cause.</param>
    /// <param name="kind">Whether the build, the platform or nobody knows is to blame; rollout thresholds count only <see cref="DeploymentFailureKind.BuildAttributable"/> and <see cref="DeploymentFailureKind.Unknown"/>.</param>
    public DeploymentFailedException(string connectorId, string message, Exception? innerException = null, DeploymentFailureKind kind = DeploymentFailureKind.Unknown)
        : base(message, innerException)
    {
        ConnectorId = connectorId;
        Kind = kind;
    }

    /// <summary>Gets the connector's id.</summary>
    public string ConnectorId { get; }

    /// <summary>Gets what the failure is attributed to.</summary>
    public DeploymentFailureKind Kind { get; }

    /// <summary>Gets a value indicating whether the failure is the platform's (transient, throttled) and worth retrying rather than counting against the build.</summary>
    public bool IsTransient => Kind is DeploymentFailureKind.Transient or DeploymentFailureKind.Throttled;
}
