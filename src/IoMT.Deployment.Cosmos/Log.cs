using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Cosmos;

/// <summary>The log messages of IoMT.Deployment.Cosmos; event ids 3000-3999.</summary>
internal static partial class Log
{
    // 3000-3099: containers and clients.
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Created Cosmos DB container {Database}/{Container} with partition key {PartitionKeyPath}")]
    public static partial void ContainerCreated(ILogger logger, string database, string container, string partitionKeyPath);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Cosmos DB container {Database}/{Container} is ready (partition key {PartitionKeyPath})")]
    public static partial void ContainerReady(ILogger logger, string database, string container, string partitionKeyPath);

    // 3100-3199: version store.
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Read version state {Document}: current {Current}, in flight {InFlight}, {InvalidatedCount} invalidated, ETag {ETag}")]
    public static partial void VersionStateRead(ILogger logger, string document, BuildNumber? current, BuildNumber? inFlight, int invalidatedCount, string? eTag);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Version state {Document} does not exist yet; the store is empty")]
    public static partial void VersionStateEmpty(ILogger logger, string document);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Wrote version state {Document}: current {Current}, in flight {InFlight}, {InvalidatedCount} invalidated, ETag {ETag}")]
    public static partial void VersionStateWritten(ILogger logger, string document, BuildNumber? current, BuildNumber? inFlight, int invalidatedCount, string? eTag);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "Version state {Document} was changed by another writer (HTTP {StatusCode}); nothing was written")]
    public static partial void VersionStateConflict(ILogger logger, string document, int statusCode);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Appended rollout {RolloutId} ({Kind} to {Build}) to the history as {Document}")]
    public static partial void HistoryAppended(ILogger logger, string rolloutId, RolloutKind kind, BuildNumber build, string document);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Debug, Message = "Rollout {RolloutId} is already the newest history entry; not appended again")]
    public static partial void HistoryAlreadyAppended(ILogger logger, string rolloutId);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Debug, Message = "History sequence {Sequence} was taken by another writer; retrying")]
    public static partial void HistorySequenceTaken(ILogger logger, long sequence);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Information, Message = "Trimmed {Count} rollout history entries beyond the limit of {HistoryLimit}")]
    public static partial void HistoryTrimmed(ILogger logger, int count, int historyLimit);

    // 3200-3299: connector inventory.
    [LoggerMessage(EventId = 3200, Level = LogLevel.Debug, Message = "Read connector page {Page} from {Container}: {ItemCount} documents")]
    public static partial void ConnectorPageRead(ILogger logger, int page, string container, int itemCount);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Listed {Count} connectors from {Container} in {Pages} pages ({Excluded} being deleted, {Skipped} unreadable) in {ElapsedMs} ms")]
    public static partial void ConnectorsListed(ILogger logger, int count, string container, int pages, int excluded, int skipped, long elapsedMs);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Skipped connector document {Document} in {Container}: {Reason}")]
    public static partial void ConnectorDocumentSkipped(ILogger logger, string document, string container, string reason);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Debug, Message = "Left out connector {Connector}: its state is {State}")]
    public static partial void ConnectorExcluded(ILogger logger, string connector, string state);
}
