namespace IoMT.Deployment;

/// <summary>The base of every exception IoMT.Deployment throws for a case a caller handles.</summary>
public abstract class DeploymentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the thing concerned. Never a secret.</param>
    /// <param name="innerException">The cause.</param>
    protected DeploymentException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The artifact store is missing, cannot be read or cannot be written.</summary>
public sealed class ArtifactStoreException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the store.</param>
    /// <param name="innerException">The cause.</param>
    public ArtifactStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a store that does not exist (container or folder missing).</summary>
    /// <param name="message">What is missing, naming it.</param>
    /// <param name="isMissing">Whether the store itself does not exist.</param>
    /// <param name="innerException">The cause.</param>
    public ArtifactStoreException(string message, bool isMissing, Exception? innerException = null)
        : base(message, innerException)
    {
        IsMissing = isMissing;
    }

    /// <summary>Gets a value indicating whether the store itself (the container, the folder) does not exist.</summary>
    public bool IsMissing { get; }
}

/// <summary>A build is not in the artifact store, or the store holds no build at all.</summary>
public sealed class BuildNotFoundException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The build looked for, or <see langword="null"/> when the store holds no valid build at all.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public BuildNotFoundException(BuildNumber? build, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Build = build;
    }

    /// <summary>Gets the build looked for, or <see langword="null"/> when the store holds no valid build at all.</summary>
    public BuildNumber? Build { get; }
}

/// <summary>An operation needs a build that is invalidated.</summary>
public sealed class BuildInvalidatedException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The invalidated build.</param>
    /// <param name="message">What went wrong.</param>
    public BuildInvalidatedException(BuildNumber build, string message)
        : base(message)
    {
        Build = build;
    }

    /// <summary>Gets the invalidated build.</summary>
    public BuildNumber Build { get; }
}

/// <summary>A package is corrupt: its bytes do not match the recorded SHA-256, or it is not a valid zip.</summary>
public sealed class InvalidPackageException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The build, when known.</param>
    /// <param name="message">What is wrong with the package.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidPackageException(BuildNumber? build, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Build = build;
    }

    /// <summary>Gets the build, when known.</summary>
    public BuildNumber? Build { get; }
}

/// <summary>A build already exists in the artifact store with different bytes; delivered builds are immutable.</summary>
public sealed class ArtifactConflictException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The build.</param>
    /// <param name="existingSha256">The SHA-256 of the stored package, when known.</param>
    /// <param name="newSha256">The SHA-256 of the package offered.</param>
    public ArtifactConflictException(BuildNumber build, string? existingSha256, string newSha256)
        : base($"Build {build} is already delivered with different content (stored SHA-256 {existingSha256 ?? "unknown"}, offered {newSha256}). A delivered build is immutable: deliver the change under a new build number.")
    {
        Build = build;
        ExistingSha256 = existingSha256;
        NewSha256 = newSha256;
    }

    /// <summary>Gets the build.</summary>
    public BuildNumber Build { get; }

    /// <summary>Gets the SHA-256 of the stored package, when known.</summary>
    public string? ExistingSha256 { get; }

    /// <summary>Gets the SHA-256 of the package offered.</summary>
    public string NewSha256 { get; }
}

/// <summary>The version state cannot be read or written, or it is corrupt.</summary>
public sealed class VersionStoreException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the document or file.</param>
    /// <param name="innerException">The cause.</param>
    public VersionStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The version state changed since it was read (its ETag no longer matches); nothing was written.</summary>
public sealed class VersionStateConflictException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public VersionStateConflictException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A connector, or its Function app, does not exist (any more).</summary>
public sealed class ConnectorNotFoundException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="connectorId">The connector.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ConnectorNotFoundException(string connectorId, string? message = null, Exception? innerException = null)
        : base(message ?? $"Connector '{connectorId}' does not exist.", innerException)
    {
        ConnectorId = connectorId;
    }

    /// <summary>Gets the connector's id.</summary>
    public string ConnectorId { get; }
}

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

/// <summary>After a rollout, a connector does not run the build it should.</summary>
public sealed class VerificationFailedException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="connectorId">The connector.</param>
    /// <param name="expected">The build it should run.</param>
    /// <param name="actual">The <c>PROJECT_VERSION</c> it has.</param>
    public VerificationFailedException(string connectorId, BuildNumber expected, string? actual)
        : base($"Connector '{connectorId}' reports PROJECT_VERSION '{actual ?? "(not set)"}' instead of '{expected}'.")
    {
        ConnectorId = connectorId;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Gets the connector's id.</summary>
    public string ConnectorId { get; }

    /// <summary>Gets the build it should run.</summary>
    public BuildNumber Expected { get; }

    /// <summary>Gets the <c>PROJECT_VERSION</c> it has.</summary>
    public string? Actual { get; }
}

/// <summary>Another rollout holds the rollout lock; this run did nothing.</summary>
public sealed class RolloutLockHeldException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public RolloutLockHeldException(string message)
        : base(message)
    {
    }
}

/// <summary>An operator command found no active rollout, or one whose status the command does not apply to; nothing changed.</summary>
public sealed class RolloutNotActiveException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What the command found.</param>
    public RolloutNotActiveException(string message)
        : base(message)
    {
    }
}

/// <summary>What a failed deployment is attributed to.</summary>
public enum DeploymentFailureKind
{
    /// <summary>Not known; counted against the build, as the safe choice.</summary>
    Unknown,

    /// <summary>The deployment ran and failed (Kudu status Failed, the app did not start): the build is to blame.</summary>
    BuildAttributable,

    /// <summary>The platform failed (5xx, timeouts, dropped connections): retried, not counted against the build.</summary>
    Transient,

    /// <summary>The platform throttled the requests (429): retried, not counted against the build.</summary>
    Throttled,
}

/// <summary>
/// A store (artifact container, version store, rollout lock, connector inventory) failed as infrastructure: unreachable,
/// throttled or refusing the identity. Every adapter maps its SDK's failures to one of the derived types, so the engine,
/// the CLI and the operations API decide on these alone; the SDK's exception is only ever the inner exception.
/// </summary>
public abstract class StoreException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="store">Which store.</param>
    /// <param name="endpoint">Where the store was reached, never with a secret.</param>
    /// <param name="operation">What was being done.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    protected StoreException(string store, string endpoint, string operation, string message, Exception? innerException)
        : base(message, innerException)
    {
        Store = store;
        Endpoint = endpoint;
        Operation = operation;
    }

    /// <summary>Gets which store failed, such as "artifact container" or "version store".</summary>
    public string Store { get; }

    /// <summary>Gets where the store was reached (endpoint with container or database), never with a secret.</summary>
    public string Endpoint { get; }

    /// <summary>Gets what was being done when the store failed.</summary>
    public string Operation { get; }

    /// <summary>Gets a value indicating whether trying again later may succeed.</summary>
    public abstract bool IsTransient { get; }
}

/// <summary>
/// A store the deployment depends on (artifact container, version store, rollout lock, connector inventory) could not be
/// reached or did not answer in time: an infrastructure failure, not a problem with the request. Nothing was changed by
/// the operation that failed.
/// </summary>
/// <remarks>Adapters map their transport failures (connection refused, timeouts, retries exhausted, 503) to this type, so
/// callers handle an unreachable store without knowing the SDK's exception types.</remarks>
public sealed class StoreUnavailableException : StoreException
{
    /// <summary>The store name of the artifact container.</summary>
    public const string ArtifactContainer = "artifact container";

    /// <summary>The store name of the version store.</summary>
    public const string VersionStore = "version store";

    /// <summary>The store name of the rollout lock.</summary>
    public const string RolloutLock = "rollout lock";

    /// <summary>The store name of the connector inventory.</summary>
    public const string ConnectorInventory = "connector inventory";

    /// <summary>Creates the exception; the message names the store, the endpoint and the operation, and what to do.</summary>
    /// <param name="store">Which store, such as <see cref="ArtifactContainer"/> or <see cref="VersionStore"/>.</param>
    /// <param name="endpoint">Where the store was reached (service endpoint with container or database), never with a secret.</param>
    /// <param name="operation">What was being done, such as "list the builds" or "take the lock".</param>
    /// <param name="isTransient">Whether trying again later may succeed (unreachable, timed out, busy) rather than a lasting refusal.</param>
    /// <param name="detail">What the failure was (for example "connection refused", "no answer within 30 s"); optional.</param>
    /// <param name="innerException">The cause.</param>
    public StoreUnavailableException(string store, string endpoint, string operation, bool isTransient, string? detail = null, Exception? innerException = null)
        : base(store, endpoint, operation, FormatMessage(store, endpoint, operation, isTransient, detail), innerException)
    {
        _isTransient = isTransient;
    }

    private readonly bool _isTransient;

    /// <inheritdoc/>
    public override bool IsTransient => _isTransient;

    private static string FormatMessage(string store, string endpoint, string operation, bool isTransient, string? detail)
    {
        var cause = string.IsNullOrWhiteSpace(detail) ? string.Empty : $" ({detail.Trim().TrimEnd('.')})";
        var advice = isTransient
            ? "Check that the endpoint is right and reachable from this host (network, firewall, private endpoint) and that the service is up, then run the command again; nothing was changed."
            : "Check the endpoint and the identity's access to it; nothing was changed.";
        return $"The {store} at {endpoint} is unavailable: could not {operation}{cause}. {advice}";
    }
}

/// <summary>
/// A store throttled the requests (HTTP 429) beyond the client's retries; nothing was changed by the refused request.
/// Transient by nature: try again after <see cref="RetryAfter"/>.
/// </summary>
public sealed class StoreThrottledException : StoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="store">Which store, such as <see cref="StoreUnavailableException.VersionStore"/>.</param>
    /// <param name="endpoint">Where the store was reached, never with a secret.</param>
    /// <param name="operation">What was being done.</param>
    /// <param name="retryAfter">How long the store asked to wait, when it said.</param>
    /// <param name="innerException">The cause.</param>
    public StoreThrottledException(string store, string endpoint, string operation, TimeSpan? retryAfter, Exception? innerException = null)
        : base(store, endpoint, operation, $"The {store} at {endpoint} throttled the requests: could not {operation}" + (retryAfter is { } wait ? $" (asked to wait {wait.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} s)" : string.Empty) + ". Nothing was changed; try again later, or raise the store's throughput.", innerException)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>Gets how long the store asked to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets a value indicating whether trying again later may succeed: always.</summary>
    public override bool IsTransient => true;
}

/// <summary>A store refused the identity (HTTP 401 or 403, or no token could be had); nothing was changed.</summary>
public sealed class StoreAccessDeniedException : StoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="store">Which store, such as <see cref="StoreUnavailableException.ArtifactContainer"/>.</param>
    /// <param name="endpoint">Where the store was reached, never with a secret.</param>
    /// <param name="operation">What was being done.</param>
    /// <param name="detail">What the store answered (status and error code), never a token.</param>
    /// <param name="innerException">The cause.</param>
    public StoreAccessDeniedException(string store, string endpoint, string operation, string detail, Exception? innerException = null)
        : base(store, endpoint, operation, $"The {store} at {endpoint} refused access: could not {operation} ({detail}). Check the identity's role assignment on it (see docs/security.md); nothing was changed.", innerException)
    {
    }

    /// <summary>Gets a value indicating whether trying again later may succeed: never without a change of access.</summary>
    public override bool IsTransient => false;
}
