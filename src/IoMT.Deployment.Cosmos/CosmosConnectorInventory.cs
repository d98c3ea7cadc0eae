using System.Runtime.CompilerServices;
using System.Text.Json;
using IoMT.Deployment.Composition;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// The IoMT connectors, read from the global Cosmos DB page by page (<see cref="CosmosConnectorInventoryOptions.MaxItemCount"/>
/// documents per request), so the fleet is never in memory at once. Connectors being deleted are left out.
/// </summary>
/// <remarks>
/// Documents have the shape of <see cref="CosmosConnectorDocument"/> (or are projected into it by the query). A document
/// that cannot be read as a connector is skipped with a warning. A <c>429</c> goes through the SDK's retries and, when
/// they run out, the SDK's <see cref="CosmosException"/> is thrown as it is; other failures become
/// <see cref="ConnectorInventoryException"/>.
/// </remarks>
public sealed class CosmosConnectorInventory : IConnectorInventory
{
    private readonly CosmosContainerGate _gate;
    private readonly string _query;
    private readonly string _existsQuery;
    private readonly int _maxItemCount;
    private readonly HashSet<string> _excludedStates;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the inventory. No request is made until the first operation.</summary>
    /// <param name="client">The Cosmos DB client, built once by the host or the composition.</param>
    /// <param name="options">Where the connectors live and how they are read; validated by the composition (<c>AddCosmosConnectorInventory</c>).</param>
    /// <param name="logger">The logger.</param>
    /// <param name="timeProvider">The clock for the elapsed time in logs; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public CosmosConnectorInventory(CosmosClient client, CosmosConnectorInventoryOptions options, ILogger<CosmosConnectorInventory>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _query = string.IsNullOrWhiteSpace(options.Query)
            ? throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.Query))} is required.", nameof(options))
            : options.Query;
        _existsQuery = options.ExistsQuery is { } exists && exists.Contains("@id", StringComparison.Ordinal)
            ? exists
            : throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.ExistsQuery))} must use the parameter @id.", nameof(options));
        _maxItemCount = options.MaxItemCount > 0
            ? options.MaxItemCount
            : throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.MaxItemCount))} must be positive.", nameof(options));
        _excludedStates = new HashSet<string>(options.ExcludedStates, StringComparer.OrdinalIgnoreCase);
        _gate = new CosmosContainerGate(client, options, StoreUnavailableException.ConnectorInventory, static (message, inner) => new ConnectorInventoryException(message, inner), _logger);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = _timeProvider.GetTimestamp();
        var container = await ContainerAsync("list the connectors", cancellationToken).ConfigureAwait(false);
        int pages = 0, listed = 0, excluded = 0, skipped = 0;
        var documents = CosmosStatus.QueryAsync(
            container,
            new QueryDefinition(_query),
            new QueryRequestOptions { MaxItemCount = _maxItemCount },
            response => Failure(response, "Listing the connectors"),
            itemCount => Log.ConnectorPageRead(_logger, ++pages, _gate.Name, itemCount),
            _gate.OperationTimeout,
            cancellationToken);
        await using var enumerator = documents.GetAsyncEnumerator(cancellationToken);
        while (await MoveNextAsync(enumerator, "Listing the connectors", "list the connectors", cancellationToken).ConfigureAwait(false))
        {
            switch (Read(enumerator.Current, out var connector))
            {
                case Verdict.Listed:
                    listed++;
                    yield return connector!;
                    break;
                case Verdict.Excluded:
                    excluded++;
                    break;
                default:
                    skipped++;
                    break;
            }
        }

        var elapsedMs = (long)_timeProvider.GetElapsedTime(started).TotalMilliseconds;
        Log.ConnectorsListed(_logger, listed, _gate.Name, pages, excluded, skipped, elapsedMs);
    }

    /// <inheritdoc/>
    public async Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectorId);
        var container = await ContainerAsync($"look up connector '{connectorId}'", cancellationToken).ConfigureAwait(false);
        var what = $"Looking up connector '{connectorId}'";
        var documents = CosmosStatus.QueryAsync(
            container,
            new QueryDefinition(_existsQuery).WithParameter("@id", connectorId),
            new QueryRequestOptions { MaxItemCount = _maxItemCount },
            response => Failure(response, what),
            pageRead: null,
            _gate.OperationTimeout,
            cancellationToken);
        await using var enumerator = documents.GetAsyncEnumerator(cancellationToken);
        while (await MoveNextAsync(enumerator, what, $"look up connector '{connectorId}'", cancellationToken).ConfigureAwait(false))
        {
            if (Read(enumerator.Current, out var connector) == Verdict.Listed && string.Equals(connector!.Id, connectorId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private enum Verdict
    {
        Listed,
        Excluded,
        Skipped,
    }

    private Verdict Read(JsonElement element, out ConnectorTarget? connector)
    {
        connector = null;
        CosmosConnectorDocument? document;
        try
        {
            document = element.Deserialize(CosmosJsonContext.Default.CosmosConnectorDocument);
            if (document is null)
            {
                throw new FormatException("it is null");
            }

            if (document.State is { } state && _excludedStates.Contains(state))
            {
                Log.ConnectorExcluded(_logger, document.Id, state);
                return Verdict.Excluded;
            }

            connector = document.ToConnectorTarget();
            return Verdict.Listed;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            // One unreadable document must not stop the rollout of the whole fleet; it is reported, not swallowed.
            if (_logger.IsEnabled(LogLevel.Warning))
            {
                Log.ConnectorDocumentSkipped(_logger, CosmosStatus.IdOf(element), _gate.Name, e.Message);
            }

            return Verdict.Skipped;
        }
    }

    private async ValueTask<Container> ContainerAsync(string operation, CancellationToken cancellationToken)
    {
        using var deadline = _gate.Deadline(cancellationToken);
        try
        {
            return await _gate.GetAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            throw _gate.Unavailable(operation, e);
        }
    }

    private async ValueTask<bool> MoveNextAsync(IAsyncEnumerator<JsonElement> enumerator, string what, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await enumerator.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            throw _gate.Unavailable(operation, e);
        }
        catch (CosmosException e) when (!CosmosStatus.IsThrottled(e.StatusCode))
        {
            throw new ConnectorInventoryException($"{what} in Cosmos DB container '{_gate.Name}' failed: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }
    }

    private Exception Failure(ResponseMessage response, string what) =>
        CosmosStatus.IsOwnerMissing(response)
            ? new ConnectorInventoryException(_gate.MissingMessage)
            : CosmosStatus.Fail(response, static (message, inner) => new ConnectorInventoryException(message, inner), $"{what} in Cosmos DB container '{_gate.Name}'");
}
