namespace IoMT.Deployment.Cosmos;

/// <summary>
/// The connector inventory cannot be read: its container is missing or misconfigured, or a query failed (other than
/// by throttling, which surfaces as the SDK's <c>CosmosException</c> with status 429).
/// </summary>
public sealed class ConnectorInventoryException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the container. Never a secret.</param>
    /// <param name="innerException">The cause.</param>
    public ConnectorInventoryException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
