namespace IoMT.Deployment;

/// <summary>What an update would do; nothing was changed to find out.</summary>
public sealed record RolloutPlan
{
    /// <summary>Gets the kind of rollout the update would run.</summary>
    public required RolloutKind Kind { get; init; }

    /// <summary>Gets the current build.</summary>
    public BuildNumber? Current { get; init; }

    /// <summary>Gets the target build.</summary>
    public required BuildNumber Target { get; init; }

    /// <summary>Gets each connector's planned action.</summary>
    public required IReadOnlyList<PlannedConnector> Connectors { get; init; }

    /// <summary>Gets the waves (one wave with every connector when no waves are configured, or for straggler and rollback runs).</summary>
    public IReadOnlyList<PlannedWave> Waves { get; init; } = [];

    /// <summary>Gets the plan's fingerprint; the rollout it starts records the same one.</summary>
    public string Fingerprint { get; init; } = string.Empty;

    /// <summary>
    /// Gets the estimated duration: per wave, the longest of its deployments at the configured parallelism and, when
    /// <see cref="IDeploymentLimits"/> are registered, of each limited scope's deployments under its limits; plus bakes.
    /// </summary>
    public TimeSpan EstimatedDuration { get; init; }

    /// <summary>Gets what the connectors to deploy cost under the platform's limits, per scope (subscription), when limits are registered.</summary>
    public DeploymentLimitEstimate? Limits { get; init; }

    /// <summary>Gets the active rollout the update would continue, when one is active.</summary>
    public RolloutRecord? Active { get; init; }
}
