namespace IoMT.Deployment;

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
