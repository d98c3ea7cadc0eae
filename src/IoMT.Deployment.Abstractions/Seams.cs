namespace IoMT.Deployment;

/// <summary>The read side of the artifact container: the update worker lists and opens delivered builds.</summary>
/// <remarks>The worker's identity may only read the container; hosts that run the worker register no <see cref="IArtifactPublisher"/>.</remarks>
public interface IArtifactSource
{
    /// <summary>
    /// Lists the delivered builds, in no particular order. Names that are not <c>{build}.zip</c> are skipped with a
    /// warning, never an error.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The builds.</returns>
    /// <exception cref="ArtifactStoreException">The store is missing or cannot be read.</exception>
    IAsyncEnumerable<ArtifactInfo> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens a build's package for reading.</summary>
    /// <param name="build">The build.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The package stream with what the store knows of it, including its recorded SHA-256.</returns>
    /// <exception cref="BuildNotFoundException">No such build.</exception>
    /// <exception cref="ArtifactStoreException">The store is missing or cannot be read.</exception>
    Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken = default);
}

/// <summary>The write side of the artifact container, for the delivery step only.</summary>
/// <remarks>A delivered build is immutable: the same bytes again is a no-op, other bytes are a conflict.</remarks>
public interface IArtifactPublisher
{
    /// <summary>Publishes a package as <c>{build}.zip</c>, recording its SHA-256 with it.</summary>
    /// <param name="build">The build number.</param>
    /// <param name="package">The package bytes, read from the current position; a seekable stream lets the store retry.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>Whether the build was written or already there with the same bytes.</returns>
    /// <exception cref="ArtifactConflictException">The build already exists with different bytes; nothing was written.</exception>
    /// <exception cref="ArtifactStoreException">The store is missing or cannot be written.</exception>
    Task<PublishResult> PublishAsync(BuildNumber build, Stream package, CancellationToken cancellationToken = default);

    /// <summary>Gets the newest delivered build with its content hash, for delivering only when the content changed.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The newest build (highest build number, invalidated or not) with its SHA-256, or <see langword="null"/> when none was delivered.</returns>
    Task<ArtifactInfo?> GetNewestAsync(CancellationToken cancellationToken = default);
}

/// <summary>The global database's record of which build the fleet runs, guarded by an ETag.</summary>
public interface IVersionStore
{
    /// <summary>Reads the version state.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state and its ETag; an empty state with a <see langword="null"/> ETag when nothing was written yet.</returns>
    /// <exception cref="VersionStoreException">The state cannot be read or is corrupt; the message names the document.</exception>
    Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the version state if it has not changed since it was read.</summary>
    /// <param name="state">The new state.</param>
    /// <param name="expectedETag">The ETag read with the state; <see langword="null"/> to create the first state, which fails if one exists.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The new ETag.</returns>
    /// <exception cref="VersionStateConflictException">Another writer changed the state since it was read; nothing was written.</exception>
    Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Appends a rollout to the bounded history, dropping the oldest entries beyond the store's limit.</summary>
    /// <param name="entry">The rollout.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the entry is stored.</returns>
    Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Reads the rollout history, newest first.</summary>
    /// <param name="maxCount">The most entries to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entries, newest first.</returns>
    Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default);
}

/// <summary>The IoMT connectors whose Function apps receive the code.</summary>
public interface IConnectorInventory
{
    /// <summary>Streams every connector that should run the current build; connectors being deleted are left out.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The connectors, page by page; the fleet is never loaded into memory at once.</returns>
    IAsyncEnumerable<ConnectorTarget> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Asks whether a connector still exists (and is not being deleted).</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns><see langword="true"/> when the connector exists.</returns>
    Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default);
}

/// <summary>Puts a package on one connector's Function app and reads and writes its <c>PROJECT_VERSION</c>.</summary>
public interface IConnectorDeployer
{
    /// <summary>Deploys the package and waits until the app reports the deployment finished successfully.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="package">The package, read once per rollout; open it with <see cref="ArtifactPackage.OpenRead"/>.</param>
    /// <param name="cancellationToken">Cancels the deployment.</param>
    /// <returns>A task that completes when the deployment succeeded.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector's app is gone (deleted before or during the deployment).</exception>
    /// <exception cref="DeploymentFailedException">The deployment failed.</exception>
    Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default);

    /// <summary>Sets the app setting <c>PROJECT_VERSION</c> to the build number, keeping every other setting.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="build">The build now deployed.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the setting is written.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector's app is gone.</exception>
    Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default);

    /// <summary>Reads the app setting <c>PROJECT_VERSION</c>.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The raw value, or <see langword="null"/> when it is not set.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector's app is gone.</exception>
    Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default);
}

/// <summary>Allows one active rollout across every worker replica.</summary>
public interface IRolloutLock
{
    /// <summary>Tries to take the lock.</summary>
    /// <param name="owner">Who takes it (a host and process description, for diagnostics).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The held lease, or <see langword="null"/> when another rollout holds the lock.</returns>
    Task<IRolloutLease?> TryAcquireAsync(string owner, CancellationToken cancellationToken = default);
}

/// <summary>A held rollout lock. Disposing it releases the lock.</summary>
public interface IRolloutLease : IAsyncDisposable
{
    /// <summary>Gets a token that is cancelled when the lease is lost (it could not be renewed); the rollout must stop.</summary>
    CancellationToken LeaseLost { get; }
}

/// <summary>
/// Decides the order and pace in which a rollout reaches the connectors. Today: everything at once with bounded
/// parallelism; a policy can add canary rings, waves or failure thresholds without touching the engine.
/// </summary>
public interface IRolloutPolicy
{
    /// <summary>Runs <paramref name="connectorStep"/> for every connector and collects the results.</summary>
    /// <param name="connectors">The connectors, streamed.</param>
    /// <param name="connectorStep">Brings one connector to the target; it never throws except for cancellation.</param>
    /// <param name="cancellationToken">Cancels the rollout.</param>
    /// <returns>One result per connector reached.</returns>
    Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(
        IAsyncEnumerable<ConnectorTarget> connectors,
        Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep,
        CancellationToken cancellationToken = default);
}
