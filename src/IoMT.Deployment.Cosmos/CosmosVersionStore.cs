using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using IoMT.Deployment.Composition;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// The version state in the global Cosmos DB: one state document written only with <c>If-Match</c> on its ETag, and the
/// rollout history as separate, bounded documents read newest first.
/// </summary>
/// <remarks>
/// <para>
/// Only single-document operations are used (no transactional batch), so the store behaves the same on Cosmos DB, the
/// emulator and the test server. Writes map <c>409</c> on the first create and <c>412</c> on a replace to
/// <see cref="VersionStateConflictException"/>; a <c>429</c> goes through the SDK's retries and, when they run out, the
/// SDK's <see cref="CosmosException"/> is thrown as it is. Other failures become <see cref="VersionStoreException"/>
/// naming the document.
/// </para>
/// <para>
/// Documents are serialized with System.Text.Json (<see cref="BuildNumber"/>'s converter applies) and sent through
/// the SDK's stream APIs, independent of the client's serializer.
/// </para>
/// </remarks>
public sealed class CosmosVersionStore : IVersionStore
{
    private const int MaxAppendAttempts = 16;

    private readonly CosmosContainerGate _gate;
    private readonly string _stateId;
    private readonly int _historyLimit;
    private readonly ILogger _logger;

    /// <summary>Creates the store. No request is made until the first operation.</summary>
    /// <param name="client">The Cosmos DB client, built once by the host or the composition.</param>
    /// <param name="options">Where the state lives; validated by the composition (<c>AddCosmosVersionStore</c>).</param>
    /// <param name="logger">The logger.</param>
    public CosmosVersionStore(CosmosClient client, CosmosVersionStoreOptions options, ILogger<CosmosVersionStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _stateId = options.StateDocumentId is { } id && CosmosResourceName.IsValid(id)
            ? id
            : throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.StateDocumentId))} is not a valid document id.", nameof(options));
        _historyLimit = options.HistoryLimit > 0
            ? options.HistoryLimit
            : throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.HistoryLimit))} must be positive.", nameof(options));
        _gate = new CosmosContainerGate(client, options, StoreUnavailableException.VersionStore, static (message, inner) => new VersionStoreException(message, inner), _logger);
    }

    private string StateDocument => $"'{_stateId}' in Cosmos DB container '{_gate.Name}'";

    /// <inheritdoc/>
    public async Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default)
    {
        using var deadline = _gate.Deadline(cancellationToken);
        try
        {
            return await ReadCoreAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            // The operation's deadline (OperationTimeout) passed, or the container check failed to reach the account.
            throw _gate.Unavailable("read the version state", e);
        }
    }

    private async Task<VersionStateEntry> ReadCoreAsync(CancellationToken cancellationToken)
    {
        var container = await _gate.GetAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var response = await container.ReadItemStreamAsync(_stateId, new PartitionKey(_stateId), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound && !CosmosStatus.IsOwnerMissing(response))
            {
                Log.VersionStateEmpty(_logger, _stateId);
                return new VersionStateEntry(VersionState.Empty, null);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw Failure(response, $"Reading the version state document {StateDocument}");
            }

            var document = await DeserializeAsync(response.Content, CosmosJsonContext.Default.VersionStateDocument, "version state document", StateDocument, cancellationToken).ConfigureAwait(false);
            var state = Convert(document, static d => d.ToState(), "version state document", StateDocument);
            var eTag = response.Headers.ETag;
            Log.VersionStateRead(_logger, _stateId, state.Current, state.InFlight, state.Invalidated.Count, eTag);
            return new VersionStateEntry(state, eTag);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            throw _gate.Unavailable("read the version state", e);
        }
        catch (CosmosException e) when (!CosmosStatus.IsThrottled(e.StatusCode))
        {
            throw new VersionStoreException($"Reading the version state document {StateDocument} failed: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }
    }

    /// <inheritdoc/>
    public async Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default)
    {
        using var deadline = _gate.Deadline(cancellationToken);
        try
        {
            return await WriteCoreAsync(state, expectedETag, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            // The operation's deadline (OperationTimeout) passed, or the container check failed to reach the account.
            throw _gate.Unavailable("write the version state", e);
        }
    }

    private async Task<string> WriteCoreAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var content = Serialize(VersionStateDocument.Create(_stateId, state), CosmosJsonContext.Default.VersionStateDocument);
        var container = await _gate.GetAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var requestOptions = new ItemRequestOptions { EnableContentResponseOnWrite = false };
            using var body = new MemoryStream(content, writable: false);
            ResponseMessage response;
            if (expectedETag is null)
            {
                response = await container.CreateItemStreamAsync(body, new PartitionKey(_stateId), requestOptions, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                requestOptions.IfMatchEtag = expectedETag;
                response = await container.ReplaceItemStreamAsync(body, _stateId, new PartitionKey(_stateId), requestOptions, cancellationToken).ConfigureAwait(false);
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    var eTag = response.Headers.ETag
                        ?? throw new VersionStoreException($"Writing the version state document {StateDocument} returned no ETag.");
                    Log.VersionStateWritten(_logger, _stateId, state.Current, state.InFlight, state.Invalidated.Count, eTag);
                    return eTag;
                }

                var conflict = response.StatusCode switch
                {
                    HttpStatusCode.Conflict when expectedETag is null =>
                        $"The version state document {StateDocument} already exists: another writer created it first. Read it and retry with its ETag.",
                    HttpStatusCode.PreconditionFailed =>
                        $"The version state document {StateDocument} was changed by another writer since it was read (its ETag no longer matches); nothing was written.",
                    HttpStatusCode.NotFound when expectedETag is not null && !CosmosStatus.IsOwnerMissing(response) =>
                        $"The version state document {StateDocument} was deleted since it was read; nothing was written.",
                    _ => null,
                };
                if (conflict is not null)
                {
                    Log.VersionStateConflict(_logger, _stateId, (int)response.StatusCode);
                    throw new VersionStateConflictException(conflict);
                }

                throw Failure(response, $"Writing the version state document {StateDocument}");
            }
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            throw _gate.Unavailable("write the version state", e);
        }
        catch (CosmosException e) when (!CosmosStatus.IsThrottled(e.StatusCode))
        {
            throw new VersionStoreException($"Writing the version state document {StateDocument} failed: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The entry gets the next sequence number after the newest one; its document id is made from that number, so two
    /// appenders that took the same number clash on the id and the loser retries. Appending the same rollout again right
    /// after itself (a retried call) is a no-op. Entries beyond <see cref="CosmosVersionStoreOptions.HistoryLimit"/> are
    /// then deleted, oldest first.
    /// </remarks>
    public async Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default)
    {
        using var deadline = _gate.Deadline(cancellationToken);
        try
        {
            await AppendHistoryCoreAsync(entry, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            // The operation's deadline (OperationTimeout) passed, or the container check failed to reach the account.
            throw _gate.Unavailable("append to the rollout history", e);
        }
    }

    private async Task AppendHistoryCoreAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrWhiteSpace(entry.Id, nameof(entry));
        if (entry.To.IsDefault)
        {
            throw new ArgumentException("A rollout history entry needs a target build.", nameof(entry));
        }

        var container = await _gate.GetAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; attempt <= MaxAppendAttempts; attempt++)
            {
                var head = await ReadHeadAsync(container, cancellationToken).ConfigureAwait(false);
                if (head is not null && string.Equals(head.RolloutId, entry.Id, StringComparison.Ordinal))
                {
                    Log.HistoryAlreadyAppended(_logger, entry.Id);
                    return;
                }

                var sequence = (head?.Sequence ?? 0) + 1;
                var document = RolloutHistoryDocument.Create(_stateId, sequence, entry);
                using var body = new MemoryStream(Serialize(document, CosmosJsonContext.Default.RolloutHistoryDocument), writable: false);
                using var response = await container.CreateItemStreamAsync(
                    body, new PartitionKey(document.Id), new ItemRequestOptions { EnableContentResponseOnWrite = false }, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Conflict)
                {
                    Log.HistorySequenceTaken(_logger, sequence);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw Failure(response, $"Appending rollout '{entry.Id}' to the history in Cosmos DB container '{_gate.Name}'");
                }

                Log.HistoryAppended(_logger, entry.Id, entry.Kind, entry.To, document.Id);
                await TrimAsync(container, sequence, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            throw _gate.Unavailable("append to the rollout history", e);
        }
        catch (CosmosException e) when (!CosmosStatus.IsThrottled(e.StatusCode))
        {
            throw new VersionStoreException($"Appending rollout '{entry.Id}' to the history in Cosmos DB container '{_gate.Name}' failed: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }

        throw new VersionStoreException($"Appending rollout '{entry.Id}' to the history in Cosmos DB container '{_gate.Name}' failed: {MaxAppendAttempts} other appends took the next sequence number first.");
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default)
    {
        using var deadline = _gate.Deadline(cancellationToken);
        try
        {
            return await ReadHistoryCoreAsync(maxCount, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            // The operation's deadline (OperationTimeout) passed, or the container check failed to reach the account.
            throw _gate.Unavailable("read the rollout history", e);
        }
    }

    private async Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryCoreAsync(int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        if (maxCount == 0)
        {
            return [];
        }

        var container = await _gate.GetAsync(cancellationToken).ConfigureAwait(false);
        var query = new QueryDefinition(
                "SELECT TOP @top * FROM c WHERE c.type = @type AND c.stateId = @stateId ORDER BY c.sequence DESC")
            .WithParameter("@top", Math.Min(maxCount, _historyLimit))
            .WithParameter("@type", RolloutHistoryDocument.DocumentType)
            .WithParameter("@stateId", _stateId);
        var entries = new List<RolloutHistoryEntry>();
        try
        {
            await foreach (var element in QueryAsync(container, query, Math.Min(maxCount, _historyLimit), "Reading the rollout history", cancellationToken).ConfigureAwait(false))
            {
                var name = $"'{CosmosStatus.IdOf(element)}' in Cosmos DB container '{_gate.Name}'";
                var document = Deserialize(element, CosmosJsonContext.Default.RolloutHistoryDocument, "rollout history document", name);
                entries.Add(Convert(document, static d => d.ToEntry(), "rollout history document", name));
                if (entries.Count == maxCount)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            throw _gate.Unavailable("read the rollout history", e);
        }
        catch (CosmosException e) when (!CosmosStatus.IsThrottled(e.StatusCode))
        {
            throw new VersionStoreException($"Reading the rollout history in Cosmos DB container '{_gate.Name}' failed: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }

        return entries;
    }

    private async Task<HistoryHead?> ReadHeadAsync(Container container, CancellationToken cancellationToken)
    {
        var query = new QueryDefinition(
                "SELECT TOP 1 c.sequence, c.rolloutId FROM c WHERE c.type = @type AND c.stateId = @stateId ORDER BY c.sequence DESC")
            .WithParameter("@type", RolloutHistoryDocument.DocumentType)
            .WithParameter("@stateId", _stateId);
        await foreach (var element in QueryAsync(container, query, 1, "Reading the newest rollout history entry", cancellationToken).ConfigureAwait(false))
        {
            return Deserialize(element, CosmosJsonContext.Default.HistoryHead, "rollout history document", $"in Cosmos DB container '{_gate.Name}'");
        }

        return null;
    }

    private async Task TrimAsync(Container container, long newest, CancellationToken cancellationToken)
    {
        var cutoff = newest - _historyLimit;
        if (cutoff < 1)
        {
            return;
        }

        var query = new QueryDefinition(
                "SELECT c.id FROM c WHERE c.type = @type AND c.stateId = @stateId AND c.sequence <= @cutoff")
            .WithParameter("@type", RolloutHistoryDocument.DocumentType)
            .WithParameter("@stateId", _stateId)
            .WithParameter("@cutoff", cutoff);

        // Collect first, then delete: deleting while the query pages over the same documents could skip some.
        var ids = new List<string>();
        await foreach (var element in QueryAsync(container, query, null, "Finding rollout history entries to trim", cancellationToken).ConfigureAwait(false))
        {
            ids.Add(Deserialize(element, CosmosJsonContext.Default.DocumentId, "rollout history document", $"in Cosmos DB container '{_gate.Name}'").Id);
        }

        var deleted = 0;
        foreach (var id in ids)
        {
            using var response = await container.DeleteItemStreamAsync(id, new PartitionKey(id), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                deleted++;
            }
            else if (response.StatusCode != HttpStatusCode.NotFound || CosmosStatus.IsOwnerMissing(response))
            {
                // 404: another appender trimmed it first.
                throw Failure(response, $"Trimming rollout history document '{id}' in Cosmos DB container '{_gate.Name}'");
            }
        }

        if (deleted > 0)
        {
            Log.HistoryTrimmed(_logger, deleted, _historyLimit);
        }
    }

    private IAsyncEnumerable<JsonElement> QueryAsync(Container container, QueryDefinition query, int? maxItemCount, string what, CancellationToken cancellationToken) =>
        CosmosStatus.QueryAsync(
            container,
            query,
            new QueryRequestOptions { MaxItemCount = maxItemCount },
            response => Failure(response, $"{what} in Cosmos DB container '{_gate.Name}'"),
            pageRead: null,
            pageTimeout: null,
            cancellationToken);

    private Exception Failure(ResponseMessage response, string what) =>
        CosmosStatus.IsOwnerMissing(response)
            ? new VersionStoreException(_gate.MissingMessage)
            : CosmosStatus.Fail(response, static (message, inner) => new VersionStoreException(message, inner), what);

    private static byte[] Serialize<T>(T document, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(document, typeInfo);
        }
        catch (JsonException e)
        {
            // The only way here is a default BuildNumber in the state or entry.
            throw new ArgumentException($"The value cannot be stored: {e.Message}", e);
        }
    }

    private static async Task<T> DeserializeAsync<T>(Stream content, JsonTypeInfo<T> typeInfo, string kind, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonSerializer.DeserializeAsync(content, typeInfo, cancellationToken).ConfigureAwait(false)
                ?? throw new VersionStoreException($"The {kind} {name} is corrupt: it is null.");
        }
        catch (JsonException e)
        {
            throw Corrupt(kind, name, e);
        }
    }

    private static T Deserialize<T>(JsonElement element, JsonTypeInfo<T> typeInfo, string kind, string name)
    {
        try
        {
            return element.Deserialize(typeInfo) ?? throw new VersionStoreException($"The {kind} {name} is corrupt: it is null.");
        }
        catch (JsonException e)
        {
            throw Corrupt(kind, name, e);
        }
    }

    private static VersionStoreException Corrupt(string kind, string name, JsonException e) =>
        new($"The {kind} {name} is corrupt{(string.IsNullOrEmpty(e.Path) ? string.Empty : $" at {e.Path}")}: {e.Message}", e);

    private static TResult Convert<TDocument, TResult>(TDocument document, Func<TDocument, TResult> convert, string kind, string name)
    {
        try
        {
            return convert(document);
        }
        catch (FormatException e)
        {
            throw new VersionStoreException($"The {kind} {name} is corrupt: {e.Message}.", e);
        }
    }
}
