namespace IoMT.Deployment;

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
