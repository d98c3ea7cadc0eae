namespace IoMT.Deployment;

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
