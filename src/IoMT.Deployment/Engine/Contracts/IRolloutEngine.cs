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
