namespace IoMT.Deployment;

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
