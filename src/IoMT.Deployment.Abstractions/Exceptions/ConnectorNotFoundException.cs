namespace IoMT.Deployment;

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
