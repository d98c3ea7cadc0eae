namespace IoMT.Deployment;

/// <summary>The version state, the builds, the recent rollouts and the fleet.</summary>
public sealed record DeploymentStatus
{
    /// <summary>Gets the version state.</summary>
    public required VersionState State { get; init; }

    /// <summary>Gets the delivered builds in build order, newest last.</summary>
    public required IReadOnlyList<BuildStatus> Builds { get; init; }

    /// <summary>Gets the newest valid build, the one an update would roll out.</summary>
    public BuildNumber? Candidate { get; init; }

    /// <summary>Gets the recent rollouts, newest first.</summary>
    public required IReadOnlyList<RolloutHistoryEntry> History { get; init; }

    /// <summary>Gets the fleet's versions, when read.</summary>
    public FleetVerification? Fleet { get; init; }
}
