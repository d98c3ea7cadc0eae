using System.Globalization;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// The stored form of <see cref="RolloutRecord"/>, inside the version state document (same ETag). Every field is mapped
/// by hand and enums are stored by name, so renaming a domain property never silently drops a stored one. Free text is
/// shortened on write and the lists are capped, so the record's size depends on the number of waves, never on the fleet.
/// </summary>
internal sealed class RolloutDocument
{
    public required string Id { get; init; }

    public required BuildNumber Target { get; init; }

    public BuildNumber? From { get; init; }

    public required string Fingerprint { get; init; }

    public required string Status { get; init; }

    public string? StatusReason { get; init; }

    public string? PausedFrom { get; init; }

    public int Wave { get; init; }

    public DateTimeOffset? BakeUntil { get; init; }

    public bool PromoteRequested { get; init; }

    public bool PromoteFull { get; init; }

    public bool AbortRequested { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public List<WaveDocument?>? Waves { get; init; }

    public List<FailedConnectorDocument?>? FailedConnectors { get; init; }

    public List<OperatorCommandDocument?>? Commands { get; init; }

    public static RolloutDocument Create(RolloutRecord record) => new()
    {
        Id = record.Id,
        Target = record.Target,
        From = record.From,
        Fingerprint = record.Fingerprint,
        Status = StoredText.Name(record.Status, "rollout.status"),
        StatusReason = StoredText.Shorten(record.StatusReason, StoredText.MaxSummaryLength),
        PausedFrom = record.PausedFrom is { } pausedFrom ? StoredText.Name(pausedFrom, "rollout.pausedFrom") : null,
        Wave = record.Wave,
        BakeUntil = record.BakeUntil,
        PromoteRequested = record.PromoteRequested,
        PromoteFull = record.PromoteFull,
        AbortRequested = record.AbortRequested,
        StartedAt = record.StartedAt,
        UpdatedAt = record.UpdatedAt,
        Waves = [.. record.Waves.Select((w, i) => WaveDocument.Create(w, $"rollout.waves[{i}]"))],

        // The first failures explain a halt; the latest commands explain where the rollout is now.
        FailedConnectors = [.. record.FailedConnectors.Take(RolloutRecord.MaxFailedConnectors).Select(FailedConnectorDocument.Create)],
        Commands = [.. record.Commands.TakeLast(RolloutRecord.MaxCommands).Select((c, i) => OperatorCommandDocument.Create(c, $"rollout.commands[{i}]"))],
    };

    /// <exception cref="FormatException">A field holds a value this code cannot read; the message names the field.</exception>
    public RolloutRecord ToRecord()
    {
        const string Field = "rollout";
        return new RolloutRecord
        {
            Id = StoredText.Required(Id, $"{Field}.id"),
            Target = Target,
            From = From,
            Fingerprint = Fingerprint,
            Status = StoredText.Parse<RolloutStatus>(Status, $"{Field}.status"),
            StatusReason = StatusReason,
            PausedFrom = PausedFrom is null ? null : StoredText.Parse<RolloutStatus>(PausedFrom, $"{Field}.pausedFrom"),
            Wave = StoredText.NotNegative(Wave, $"{Field}.wave"),
            BakeUntil = BakeUntil,
            PromoteRequested = PromoteRequested,
            PromoteFull = PromoteFull,
            AbortRequested = AbortRequested,
            StartedAt = StartedAt,
            UpdatedAt = UpdatedAt,
            Waves = StoredText.Items(Waves, $"{Field}.waves", static (w, field) => w.ToRecord(field)),
            FailedConnectors = StoredText.Items(FailedConnectors, $"{Field}.failedConnectors", static (f, field) => f.ToRecord(field)),
            Commands = StoredText.Items(Commands, $"{Field}.commands", static (c, field) => c.ToRecord(field)),
        };
    }
}

/// <summary>The stored form of <see cref="WaveRecord"/>: counts only.</summary>
internal sealed class WaveDocument
{
    public required string Name { get; init; }

    public required string Status { get; init; }

    public int Connectors { get; init; }

    public int Updated { get; init; }

    public int Failed { get; init; }

    public int Transient { get; init; }

    public int Unhealthy { get; init; }

    public int NoData { get; init; }

    public int Deleted { get; init; }

    public int Attempts { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? VerifiedAt { get; init; }

    public string? Verdict { get; init; }

    public static WaveDocument Create(WaveRecord wave, string field) => new()
    {
        Name = wave.Name,
        Status = StoredText.Name(wave.Status, $"{field}.status"),
        Connectors = wave.Connectors,
        Updated = wave.Updated,
        Failed = wave.Failed,
        Transient = wave.Transient,
        Unhealthy = wave.Unhealthy,
        NoData = wave.NoData,
        Deleted = wave.Deleted,
        Attempts = wave.Attempts,
        StartedAt = wave.StartedAt,
        VerifiedAt = wave.VerifiedAt,
        Verdict = StoredText.Shorten(wave.Verdict, StoredText.MaxSummaryLength),
    };

    public WaveRecord ToRecord(string field) => new()
    {
        Name = StoredText.Required(Name, $"{field}.name"),
        Status = StoredText.Parse<WaveStatus>(Status, $"{field}.status"),
        Connectors = StoredText.NotNegative(Connectors, $"{field}.connectors"),
        Updated = StoredText.NotNegative(Updated, $"{field}.updated"),
        Failed = StoredText.NotNegative(Failed, $"{field}.failed"),
        Transient = StoredText.NotNegative(Transient, $"{field}.transient"),
        Unhealthy = StoredText.NotNegative(Unhealthy, $"{field}.unhealthy"),
        NoData = StoredText.NotNegative(NoData, $"{field}.noData"),
        Deleted = StoredText.NotNegative(Deleted, $"{field}.deleted"),
        Attempts = StoredText.NotNegative(Attempts, $"{field}.attempts"),
        StartedAt = StartedAt,
        VerifiedAt = VerifiedAt,
        Verdict = Verdict,
    };
}

/// <summary>The stored form of <see cref="FailedConnector"/>.</summary>
internal sealed class FailedConnectorDocument
{
    public required string Connector { get; init; }

    public required string Wave { get; init; }

    public string? Reason { get; init; }

    public static FailedConnectorDocument Create(FailedConnector failed) => new()
    {
        Connector = failed.Connector,
        Wave = failed.Wave,
        Reason = StoredText.Shorten(failed.Reason, StoredText.MaxReasonLength),
    };

    public FailedConnector ToRecord(string field) =>
        new(StoredText.Required(Connector, $"{field}.connector"), Wave, Reason ?? string.Empty);
}

/// <summary>The stored form of <see cref="OperatorCommand"/>.</summary>
internal sealed class OperatorCommandDocument
{
    public required string Action { get; init; }

    public string? Actor { get; init; }

    public string? Reason { get; init; }

    public required DateTimeOffset At { get; init; }

    public static OperatorCommandDocument Create(OperatorCommand command, string field) => new()
    {
        Action = StoredText.Name(command.Action, $"{field}.action"),
        Actor = command.Actor,
        Reason = StoredText.Shorten(command.Reason, StoredText.MaxReasonLength),
        At = command.At,
    };

    public OperatorCommand ToRecord(string field) =>
        new(StoredText.Parse<OperatorAction>(Action, $"{field}.action"), Actor ?? string.Empty, Reason, At);
}

/// <summary>The stored form of <see cref="ConnectorPin"/>; no <c>build</c> means the connector is excluded from rollouts.</summary>
internal sealed class PinDocument
{
    public required string Connector { get; init; }

    public BuildNumber? Build { get; init; }

    public string? Reason { get; init; }

    public string? Actor { get; init; }

    public required DateTimeOffset At { get; init; }

    public static PinDocument Create(ConnectorPin pin) => new()
    {
        Connector = pin.Connector,
        Build = pin.Build,
        Reason = StoredText.Shorten(pin.Reason, StoredText.MaxReasonLength),
        Actor = pin.Actor,
        At = pin.At,
    };

    public ConnectorPin ToPin(string field) =>
        new(StoredText.Required(Connector, $"{field}.connector"), Build, Reason ?? string.Empty, Actor ?? string.Empty, At);
}

/// <summary>Conversions shared by the stored forms: enum names, shortened text, and checks that name the field.</summary>
internal static class StoredText
{
    /// <summary>
    /// The longest reason stored for one failed connector, operator command or pin (UTF-16 code units, ellipsis
    /// included): up to 50 failures, 50 commands and any number of pins each carry one.
    /// </summary>
    public const int MaxReasonLength = 120;

    /// <summary>The longest summary stored (a rollout's status reason, a wave's verdict, an invalidation's reason): few of them.</summary>
    public const int MaxSummaryLength = 500;

    private const string Ellipsis = "…";

    /// <summary>Shortens free text to <paramref name="maxLength"/>, ending it with an ellipsis when it was cut.</summary>
    public static string? Shorten(string? text, int maxLength)
    {
        if (text is null || text.Length <= maxLength)
        {
            return text;
        }

        var keep = maxLength - Ellipsis.Length;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--; // never split a surrogate pair
        }

        return string.Concat(text.AsSpan(0, keep), Ellipsis);
    }

    /// <summary>The name an enum value is stored by.</summary>
    /// <exception cref="ArgumentException">The value is not one of the enum's names.</exception>
    public static string Name<TEnum>(TEnum value, string field)
        where TEnum : struct, Enum =>
        Enum.IsDefined(value)
            ? value.ToString()
            : throw new ArgumentException($"'{field}' is {value}, not a defined {typeof(TEnum).Name}; the value cannot be stored.");

    /// <summary>Reads an enum stored by name: exactly one of its names (no numbers, no other casing, no lists).</summary>
    /// <exception cref="FormatException">The stored text is not one of the names.</exception>
    public static TEnum Parse<TEnum>(string? text, string field)
        where TEnum : struct, Enum
    {
        var names = Enum.GetNames<TEnum>();
        return text is not null && Array.IndexOf(names, text) >= 0
            ? Enum.Parse<TEnum>(text)
            : throw new FormatException($"'{field}' is {(text is null ? "missing" : $"'{text}'")}, not one of {string.Join(", ", names)}");
    }

    /// <exception cref="FormatException">The text is empty.</exception>
    public static string Required(string? text, string field) =>
        string.IsNullOrWhiteSpace(text) ? throw new FormatException($"'{field}' is empty") : text;

    /// <exception cref="FormatException">The count is negative.</exception>
    public static int NotNegative(int value, string field) =>
        value >= 0 ? value : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"'{field}' is {value}, not a count"));

    /// <summary>Converts a stored list (absent = empty), refusing null entries and naming each entry's field.</summary>
    /// <exception cref="FormatException">An entry is null or cannot be read.</exception>
    public static List<TResult> Items<TDocument, TResult>(List<TDocument?>? items, string field, Func<TDocument, string, TResult> convert)
        where TDocument : class
    {
        var results = new List<TResult>(items?.Count ?? 0);
        for (var i = 0; i < (items?.Count ?? 0); i++)
        {
            var item = items![i] ?? throw new FormatException($"'{field}' holds a null entry");
            results.Add(convert(item, string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]")));
        }

        return results;
    }
}
