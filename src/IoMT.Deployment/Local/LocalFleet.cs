using System.Runtime.CompilerServices;
using System.Text.Json;

namespace IoMT.Deployment.Local;

/// <summary>One entry of the local <c>connectors.json</c>.</summary>
/// <param name="Id">The connector's id, also its folder name.</param>
/// <param name="Canary">Whether it is in the canary ring.</param>
public sealed record LocalConnector(string Id, bool Canary = false);

/// <summary>
/// The local connector inventory, <c>connectors.json</c> (a JSON array of <c>{"id": "…"}</c>), and the administration of
/// the local fleet: adding a connector creates its app folder and settings; removing it deletes both.
/// </summary>
public sealed class LocalFleet : IConnectorInventory
{
    private readonly LocalLayout _layout;

    /// <summary>Creates the fleet.</summary>
    /// <param name="layout">The local layout.</param>
    public LocalFleet(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var connector in await ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new ConnectorTarget(connector.Id) { Canary = connector.Canary };
        }
    }

    /// <inheritdoc/>
    public async Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectorId);
        return (await ReadAsync(cancellationToken).ConfigureAwait(false)).Any(c => c.Id == connectorId);
    }

    /// <summary>Reads the connector list.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The connectors, in file order; empty when the file does not exist.</returns>
    /// <exception cref="InvalidOperationException">The file is not a valid connector list; the message names it.</exception>
    public async Task<IReadOnlyList<LocalConnector>> ReadAsync(CancellationToken cancellationToken = default)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(_layout.ConnectorsFile, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }

        try
        {
            var list = JsonSerializer.Deserialize<List<LocalConnector>>(bytes, LocalLayout.Json) ?? [];
            foreach (var connector in list)
            {
                LocalLayout.RequireSafeName(connector.Id);
            }

            return list;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw new InvalidOperationException($"The connector list '{_layout.ConnectorsFile}' is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>Adds connectors: each gets an app folder with empty settings and an entry in the list. Existing ones are left as they are.</summary>
    /// <param name="connectorIds">The ids; each must be a safe folder name.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>The ids that were added.</returns>
    /// <exception cref="ArgumentException">An id is not a valid name; nothing was changed.</exception>
    public async Task<IReadOnlyList<string>> AddAsync(IEnumerable<string> connectorIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectorIds);
        var ids = connectorIds.Select(LocalLayout.RequireSafeName).Distinct(StringComparer.Ordinal).ToList();
        await using var gate = await LocalLayout.LockAsync(_layout.ConnectorsFile + ".lock", cancellationToken).ConfigureAwait(false);
        var list = (await ReadAsync(cancellationToken).ConfigureAwait(false)).ToList();
        var added = ids.Where(id => list.All(c => c.Id != id)).ToList();
        foreach (var id in added)
        {
            Directory.CreateDirectory(_layout.WwwRoot(id));
            var settings = _layout.AppSettings(id);
            if (!File.Exists(settings))
            {
                await LocalLayout.WriteAtomicAsync(settings, "{}", cancellationToken).ConfigureAwait(false);
            }

            list.Add(new LocalConnector(id));
        }

        await WriteAsync(list, cancellationToken).ConfigureAwait(false);
        return added;
    }

    /// <summary>Puts a connector in the canary ring (or takes it out), for rollouts whose first wave selects canaries.</summary>
    /// <param name="connectorId">The connector's id.</param>
    /// <param name="canary">Whether it is a canary.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>A task that completes when the list is written.</returns>
    /// <exception cref="ConnectorNotFoundException">The connector is not in the list; nothing was changed.</exception>
    public async Task SetCanaryAsync(string connectorId, bool canary = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectorId);
        await using var gate = await LocalLayout.LockAsync(_layout.ConnectorsFile + ".lock", cancellationToken).ConfigureAwait(false);
        var list = (await ReadAsync(cancellationToken).ConfigureAwait(false)).ToList();
        var index = list.FindIndex(c => c.Id == connectorId);
        if (index < 0)
        {
            throw new ConnectorNotFoundException(connectorId, $"Connector '{connectorId}' is not in '{_layout.ConnectorsFile}'; nothing was changed.");
        }

        list[index] = list[index] with { Canary = canary };
        await WriteAsync(list, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes connectors: their entries and their app folders, as a customer deleting a connector would.</summary>
    /// <param name="connectorIds">The ids.</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <exception cref="ConnectorNotFoundException">An id is not in the list; nothing was changed.</exception>
    /// <returns>A task that completes when the connectors are gone.</returns>
    public async Task RemoveAsync(IEnumerable<string> connectorIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectorIds);
        var ids = connectorIds.Distinct(StringComparer.Ordinal).ToList();
        await using var gate = await LocalLayout.LockAsync(_layout.ConnectorsFile + ".lock", cancellationToken).ConfigureAwait(false);
        var list = (await ReadAsync(cancellationToken).ConfigureAwait(false)).ToList();
        var unknown = ids.FirstOrDefault(id => list.All(c => c.Id != id));
        if (unknown is not null)
        {
            throw new ConnectorNotFoundException(unknown, $"Connector '{unknown}' is not in '{_layout.ConnectorsFile}'; nothing was removed.");
        }

        list.RemoveAll(c => ids.Contains(c.Id));
        await WriteAsync(list, cancellationToken).ConfigureAwait(false);
        foreach (var id in ids)
        {
            var folder = _layout.ConnectorFolder(id);
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private Task WriteAsync(List<LocalConnector> list, CancellationToken cancellationToken) =>
        LocalLayout.WriteAtomicAsync(_layout.ConnectorsFile, JsonSerializer.SerializeToUtf8Bytes(list, LocalLayout.Json), cancellationToken);
}
