namespace IoMT.Deployment;

/// <summary>
/// The rollout engine: the hourly update (the design's UpdateIoMTConnectors task), rollback, invalidation,
/// verification and provisioning of new connectors.
/// </summary>
public interface IRolloutEngine
{
    /// <summary>
    /// Runs one update check under the rollout lock: rolls the newest valid build out when it is newer than the current one,
    /// otherwise brings stragglers to the current build.
    /// </summary>
    /// <param name="progress">Receives each connector's result as it finishes, for progress displays.</param>
    /// <param name="cancellationToken">Cancels the run; the target then stays in flight and the next run resumes.</param>
    /// <returns>The rollout report.</returns>
    /// <exception cref="BuildNotFoundException">The artifact store holds no valid build; nothing changed.</exception>
    /// <exception cref="ArtifactStoreException">The artifact store cannot be read; nothing changed.</exception>
    /// <exception cref="InvalidPackageException">The package does not match its SHA-256; no connector was touched.</exception>
    /// <exception cref="RolloutLockHeldException">Another rollout is running; nothing changed.</exception>
    Task<RolloutReport> UpdateAsync(IProgress<ConnectorResult>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Works out what <see cref="UpdateAsync"/> would do, changing nothing.</summary>
    /// <param name="cancellationToken">Cancels the planning.</param>
    /// <returns>The plan.</returns>
    Task<RolloutPlan> PlanUpdateAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Invalidates the build that is current or in flight, and rolls out the newest valid older build or the one named.
    /// </summary>
    /// <param name="request">The reason, the actor and, optionally, the build to roll back to.</param>
    /// <param name="progress">Receives each connector's result as it finishes.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The rollout report.</returns>
    /// <exception cref="BuildNotFoundException">Nothing is deployed, or there is no valid build to roll back to; nothing changed.</exception>
    /// <exception cref="BuildInvalidatedException">The named build is invalidated; nothing changed.</exception>
    Task<RolloutReport> RollbackAsync(RollbackRequest request, IProgress<ConnectorResult>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>Marks a build invalid so that no update picks it again. Connectors are not touched.</summary>
    /// <param name="build">The build.</param>
    /// <param name="reason">Why.</param>
    /// <param name="actor">Who.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns><see langword="true"/> when the build was valid and now is invalidated; <see langword="false"/> when it already was.</returns>
    /// <exception cref="BuildNotFoundException">No such build in the artifact store.</exception>
    Task<bool> InvalidateAsync(BuildNumber build, string reason, string actor, CancellationToken cancellationToken = default);

    /// <summary>Removes a build's invalidation.</summary>
    /// <param name="build">The build.</param>
    /// <param name="actor">Who.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns><see langword="true"/> when the build was invalidated and now is valid again; <see langword="false"/> when it was not invalidated.</returns>
    Task<bool> ReinstateAsync(BuildNumber build, string actor, CancellationToken cancellationToken = default);

    /// <summary>Puts the current build on one new connector; for connector-creation code.</summary>
    /// <param name="connector">The new connector.</param>
    /// <param name="cancellationToken">Cancels the deployment.</param>
    /// <returns>The connector's result, verified.</returns>
    /// <exception cref="BuildNotFoundException">No build is current yet.</exception>
    /// <exception cref="ConnectorNotFoundException">The connector's app does not exist.</exception>
    /// <exception cref="DeploymentFailedException">The deployment failed.</exception>
    /// <exception cref="VerificationFailedException">The app does not report the current build afterwards.</exception>
    Task<ConnectorResult> ProvisionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default);

    /// <summary>Reads every connector's <c>PROJECT_VERSION</c> and compares it with the current build. Changes nothing.</summary>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The verification.</returns>
    Task<FleetVerification> VerifyAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the version state, the delivered builds, the recent rollouts and, optionally, the fleet's versions. Changes nothing.</summary>
    /// <param name="includeFleet">Whether to read every connector's <c>PROJECT_VERSION</c>.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The status.</returns>
    Task<DeploymentStatus> GetStatusAsync(bool includeFleet = true, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives the active rollout an operator command, recorded with actor, reason and time. Written under the version
    /// state's ETag without the rollout lock, so it takes effect within one tick (a pause or abort also stops the wave being
    /// deployed within <see cref="RolloutOptions.StateWatchInterval"/>).
    /// </summary>
    /// <param name="action">The command.</param>
    /// <param name="actor">Who gives it.</param>
    /// <param name="reason">Why; required for <see cref="OperatorAction.Pause"/> and <see cref="OperatorAction.Abort"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The rollout record with the command applied.</returns>
    /// <exception cref="RolloutNotActiveException">No rollout is active, or the command does not apply to its status; nothing changed.</exception>
    Task<RolloutRecord> CommandAsync(OperatorAction action, string actor, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Pins a connector to a build (no update or rollback moves it) or, with a <see langword="null"/> build, excludes it from rollouts.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <param name="build">The build to hold it on, or <see langword="null"/> to exclude it.</param>
    /// <param name="reason">Why.</param>
    /// <param name="actor">Who.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The pin.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector is not in the inventory; nothing changed.</exception>
    /// <exception cref="BuildNotFoundException">The build is not in the artifact store; nothing changed.</exception>
    /// <exception cref="BuildInvalidatedException">The build is invalidated; nothing changed.</exception>
    Task<ConnectorPin> PinAsync(string connectorId, BuildNumber? build, string reason, string actor, CancellationToken cancellationToken = default);

    /// <summary>Removes a connector's pin or exclusion; the next tick brings it to the current build.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <param name="actor">Who.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns><see langword="true"/> when the connector was pinned.</returns>
    Task<bool> UnpinAsync(string connectorId, string actor, CancellationToken cancellationToken = default);
}

/// <summary>What a rollback does.</summary>
/// <param name="Reason">Why the bad build is invalidated.</param>
/// <param name="Actor">Who asked for the rollback.</param>
/// <param name="To">The build to roll back to; every build between it and the bad one is invalidated too. <see langword="null"/>: the newest valid build older than the bad one.</param>
public sealed record RollbackRequest(string Reason, string Actor, BuildNumber? To = null);

/// <summary>What an update would do to one connector.</summary>
public enum PlannedAction
{
    /// <summary>Deploy the target and set <c>PROJECT_VERSION</c>.</summary>
    Deploy,

    /// <summary>Skip: <c>PROJECT_VERSION</c> already names the target.</summary>
    SkipAlreadyCurrent,

    /// <summary>Skip: the connector's app is gone.</summary>
    SkipDeleted,

    /// <summary>Skip: the connector is pinned to a build.</summary>
    SkipPinned,

    /// <summary>Skip: the connector is excluded from rollouts.</summary>
    SkipExcluded,
}

/// <summary>One connector in a <see cref="RolloutPlan"/>.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Action">What the update would do.</param>
/// <param name="CurrentVersion">Its <c>PROJECT_VERSION</c> now.</param>
/// <param name="Wave">The index of the wave that reaches it, or -1 when none does (pinned, excluded, deleted).</param>
public sealed record PlannedConnector(ConnectorTarget Connector, PlannedAction Action, string? CurrentVersion, int Wave = -1);

/// <summary>One wave of a <see cref="RolloutPlan"/>.</summary>
public sealed record PlannedWave
{
    /// <summary>Gets the wave's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the ids of the connectors it selects, sorted.</summary>
    public required IReadOnlyList<string> Connectors { get; init; }

    /// <summary>Gets how long it bakes after it is verified.</summary>
    public TimeSpan BakeTime { get; init; }

    /// <summary>Gets the most failed connectors it tolerates, when set.</summary>
    public int? MaxFailed { get; init; }

    /// <summary>Gets the largest share (percent) of failed connectors it tolerates, when set.</summary>
    public double? MaxFailedPercent { get; init; }

    /// <summary>Gets a value indicating whether an operator must promote the rollout before this wave.</summary>
    public bool RequireApproval { get; init; }

    /// <summary>Gets a value indicating whether its health gate asks the health signals.</summary>
    public bool RequireHealth { get; init; }
}

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

    /// <summary>Gets the estimated duration: deployments at the configured parallelism plus bakes.</summary>
    public TimeSpan EstimatedDuration { get; init; }

    /// <summary>Gets the active rollout the update would continue, when one is active.</summary>
    public RolloutRecord? Active { get; init; }
}

/// <summary>One connector's version as found by <see cref="IRolloutEngine.VerifyAsync"/> or <see cref="IRolloutEngine.GetStatusAsync"/>.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Outcome">Verified, mismatch or deleted.</param>
/// <param name="ProjectVersion">Its <c>PROJECT_VERSION</c>.</param>
/// <param name="Error">Why it could not be read, when it could not.</param>
public sealed record ConnectorVersion(ConnectorTarget Connector, VerificationOutcome Outcome, string? ProjectVersion, string? Error = null);

/// <summary>Every connector's version against the current build.</summary>
/// <param name="Expected">The current build, or <see langword="null"/> before the first rollout.</param>
/// <param name="Connectors">Each connector's version.</param>
public sealed record FleetVerification(BuildNumber? Expected, IReadOnlyList<ConnectorVersion> Connectors)
{
    /// <summary>Gets a value indicating whether every surviving connector runs the current build.</summary>
    public bool AllVerified => Connectors.All(c => c.Outcome != VerificationOutcome.Mismatch);
}

/// <summary>A delivered build with its validity.</summary>
/// <param name="Artifact">What the store knows of it.</param>
/// <param name="Invalidation">Its invalidation, when it is invalidated.</param>
public sealed record BuildStatus(ArtifactInfo Artifact, BuildInvalidation? Invalidation);

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
