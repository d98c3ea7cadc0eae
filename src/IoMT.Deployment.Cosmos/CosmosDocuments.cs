using System.Text.Json;
using System.Text.Json.Serialization;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// The stored form of <see cref="VersionState"/>: one document, replaced only with <c>If-Match</c> on its ETag.
/// The storage schema is separate from the domain record so either can change without breaking the other.
/// </summary>
internal sealed class VersionStateDocument
{
    public const string DocumentType = "versionState";

    public const int CurrentSchemaVersion = 1;

    public required string Id { get; init; }

    public required string Type { get; init; }

    public required int SchemaVersion { get; init; }

    public BuildNumber? Current { get; init; }

    public BuildNumber? InFlight { get; init; }

    public List<InvalidationDocument?>? Invalidated { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public static VersionStateDocument Create(string id, VersionState state) => new()
    {
        Id = id,
        Type = DocumentType,
        SchemaVersion = CurrentSchemaVersion,
        Current = state.Current,
        InFlight = state.InFlight,
        Invalidated = [.. state.Invalidated.Select(i => new InvalidationDocument { Build = i.Build, Reason = i.Reason, At = i.At, Actor = i.Actor })],
        UpdatedAt = state.UpdatedAt,
    };

    /// <summary>Checks what the JSON shape alone cannot and converts to the domain record.</summary>
    /// <exception cref="FormatException">The document is not a version state this code can read.</exception>
    public VersionState ToState()
    {
        CosmosDocumentChecks.TypeAndSchema(Type, DocumentType, SchemaVersion, CurrentSchemaVersion);
        var invalidated = new List<BuildInvalidation>();
        foreach (var item in Invalidated ?? [])
        {
            if (item is null)
            {
                throw new FormatException("'invalidated' holds a null entry");
            }

            invalidated.Add(new BuildInvalidation(item.Build, item.Reason ?? string.Empty, item.At, item.Actor ?? string.Empty));
        }

        return new VersionState
        {
            Current = Current,
            InFlight = InFlight,
            Invalidated = invalidated,
            UpdatedAt = UpdatedAt,
        };
    }
}

/// <summary>The stored form of <see cref="BuildInvalidation"/>.</summary>
internal sealed class InvalidationDocument
{
    public required BuildNumber Build { get; init; }

    public string? Reason { get; init; }

    public required DateTimeOffset At { get; init; }

    public string? Actor { get; init; }
}

/// <summary>
/// One rollout history entry, its own document (<c>{stateId}.history.{sequence:D19}</c>) so the state document never grows.
/// The sequence orders the history; a clash on the id (two appenders took the same number) makes the loser retry.
/// </summary>
internal sealed class RolloutHistoryDocument
{
    public const string DocumentType = "rolloutHistory";

    public const int CurrentSchemaVersion = 1;

    public required string Id { get; init; }

    public required string Type { get; init; }

    public required int SchemaVersion { get; init; }

    public required string StateId { get; init; }

    public required long Sequence { get; init; }

    public required string RolloutId { get; init; }

    public required RolloutKind Kind { get; init; }

    public BuildNumber? From { get; init; }

    public required BuildNumber To { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    public required bool Succeeded { get; init; }

    public Dictionary<string, int>? Counts { get; init; }

    public static string IdFor(string stateId, long sequence) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{stateId}.history.{sequence:D19}");

    public static RolloutHistoryDocument Create(string stateId, long sequence, RolloutHistoryEntry entry) => new()
    {
        Id = IdFor(stateId, sequence),
        Type = DocumentType,
        SchemaVersion = CurrentSchemaVersion,
        StateId = stateId,
        Sequence = sequence,
        RolloutId = entry.Id,
        Kind = entry.Kind,
        From = entry.From,
        To = entry.To,
        StartedAt = entry.StartedAt,
        CompletedAt = entry.CompletedAt,
        Succeeded = entry.Succeeded,
        Counts = new Dictionary<string, int>(entry.Counts, StringComparer.Ordinal),
    };

    /// <exception cref="FormatException">The document is not a history entry this code can read.</exception>
    public RolloutHistoryEntry ToEntry()
    {
        CosmosDocumentChecks.TypeAndSchema(Type, DocumentType, SchemaVersion, CurrentSchemaVersion);
        return new RolloutHistoryEntry
        {
            Id = RolloutId,
            Kind = Kind,
            From = From,
            To = To,
            StartedAt = StartedAt,
            CompletedAt = CompletedAt,
            Succeeded = Succeeded,
            Counts = Counts ?? [],
        };
    }
}

/// <summary>The newest history entry's sequence and rollout id, read before an append.</summary>
internal sealed class HistoryHead
{
    public required long Sequence { get; init; }

    public string? RolloutId { get; init; }
}

/// <summary>A document id, read by queries that need only it.</summary>
internal sealed class DocumentId
{
    public required string Id { get; init; }
}

internal static class CosmosDocumentChecks
{
    public static void TypeAndSchema(string type, string expectedType, int schemaVersion, int supportedSchemaVersion)
    {
        if (!string.Equals(type, expectedType, StringComparison.Ordinal))
        {
            throw new FormatException($"its type is '{type}', not '{expectedType}'");
        }

        if (schemaVersion < 1 || schemaVersion > supportedSchemaVersion)
        {
            throw new FormatException($"its schemaVersion {schemaVersion} is not one this version reads (1 to {supportedSchemaVersion}); it may have been written by a newer IoMT.Deployment");
        }
    }
}

/// <summary>
/// System.Text.Json metadata for every document the adapters read or write. The adapters serialize documents themselves
/// and talk to Cosmos DB through stream APIs, so <see cref="BuildNumber"/>'s converter applies whatever serializer the
/// host configured on its <c>CosmosClient</c> (the SDK's default is Newtonsoft.Json).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(VersionStateDocument))]
[JsonSerializable(typeof(RolloutHistoryDocument))]
[JsonSerializable(typeof(HistoryHead))]
[JsonSerializable(typeof(DocumentId))]
[JsonSerializable(typeof(CosmosConnectorDocument))]
internal sealed partial class CosmosJsonContext : JsonSerializerContext;
