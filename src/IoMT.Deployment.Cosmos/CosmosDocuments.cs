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

    /// <summary>Version 2 added <c>rollout</c> and <c>pins</c>; version 1 documents read with neither.</summary>
    public const int CurrentSchemaVersion = 2;

    /// <summary>Written while the state has no rollout record and no pins, so readers of version 1 can still read it.</summary>
    public const int SchemaVersionWithoutRollouts = 1;

    public required string Id { get; init; }

    public required string Type { get; init; }

    public required int SchemaVersion { get; init; }

    public BuildNumber? Current { get; init; }

    public BuildNumber? InFlight { get; init; }

    public List<InvalidationDocument?>? Invalidated { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public RolloutDocument? Rollout { get; init; }

    public List<PinDocument?>? Pins { get; init; }

    /// <exception cref="ArgumentException">The state holds a value that cannot be stored (an undefined enum value).</exception>
    public static VersionStateDocument Create(string id, VersionState state) => new()
    {
        Id = id,
        Type = DocumentType,

        // A version 1 reader would ignore (and its next write drop) a rollout record or pins, so only a state without
        // them keeps the old version; one with them is refused by old readers instead of being damaged.
        SchemaVersion = state.Rollout is null && state.Pins.Count == 0 ? SchemaVersionWithoutRollouts : CurrentSchemaVersion,
        Current = state.Current,
        InFlight = state.InFlight,
        Invalidated = [.. state.Invalidated.Select(i => new InvalidationDocument { Build = i.Build, Reason = StoredText.Shorten(i.Reason, StoredText.MaxSummaryLength), At = i.At, Actor = i.Actor })],
        UpdatedAt = state.UpdatedAt,
        Rollout = state.Rollout is null ? null : RolloutDocument.Create(state.Rollout),
        Pins = state.Pins.Count == 0 ? null : [.. state.Pins.Select(PinDocument.Create)],
    };

    /// <summary>Checks what the JSON shape alone cannot and converts to the domain record.</summary>
    /// <exception cref="FormatException">The document is not a version state this code can read.</exception>
    public VersionState ToState()
    {
        CosmosDocumentChecks.TypeAndSchema(Type, DocumentType, SchemaVersion, CurrentSchemaVersion);
        return new VersionState
        {
            Current = Current,
            InFlight = InFlight,
            Invalidated = StoredText.Items(Invalidated, "invalidated", static (i, _) => new BuildInvalidation(i.Build, i.Reason ?? string.Empty, i.At, i.Actor ?? string.Empty)),
            UpdatedAt = UpdatedAt,
            Rollout = Rollout?.ToRecord(),
            Pins = StoredText.Items(Pins, "pins", static (p, field) => p.ToPin(field)),
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
