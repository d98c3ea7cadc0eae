using System.Text.Json;

namespace IoMT.Deployment.Local;

/// <summary>
/// The local provider's health signal: <c>&lt;root&gt;/connectors/&lt;id&gt;/health.json</c>, e.g.
/// <c>{"status": "Unhealthy", "reason": "device messages failing"}</c>. No file: no data. A file the signal cannot read
/// or understand: no data, with the reason (never healthy).
/// </summary>
public sealed class LocalHealthSignal : IConnectorHealthSignal
{
    private readonly LocalLayout _layout;

    /// <summary>Creates the signal.</summary>
    /// <param name="layout">The local root's layout.</param>
    public LocalHealthSignal(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <inheritdoc/>
    public string Name => "health.json";

    /// <summary>Gets the health file of a connector.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <returns>The path.</returns>
    public string PathOf(string connectorId) => Path.Combine(_layout.ConnectorFolder(connectorId), "health.json");

    /// <inheritdoc/>
    public async ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var path = PathOf(query.Connector.Id);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ConnectorHealth.NoData;
        }
        catch (IOException ex)
        {
            return new ConnectorHealth(HealthStatus.NoData, $"{path} cannot be read: {ex.Message}");
        }

        try
        {
            var file = JsonSerializer.Deserialize<HealthFile>(bytes, LocalLayout.Json);
            return Enum.TryParse<HealthStatus>(file?.Status, ignoreCase: true, out var status) && Enum.IsDefined(status)
                ? new ConnectorHealth(status, file!.Reason)
                : new ConnectorHealth(HealthStatus.NoData, $"{path} has no status Healthy, Unhealthy or NoData");
        }
        catch (JsonException ex)
        {
            return new ConnectorHealth(HealthStatus.NoData, $"{path} is not valid JSON: {ex.Message}");
        }
    }

    private sealed record HealthFile(string? Status, string? Reason);
}
