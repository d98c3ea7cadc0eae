using System.Text.Json.Serialization;

namespace IoMT.Deployment.Operations;

/// <summary>A request body that may carry the operator's reason.</summary>
internal interface IReasoned
{
    /// <summary>Gets why the operator acts.</summary>
    string? Reason { get; }
}

/// <summary>An action's answer, with a sentence for the log and the page.</summary>
internal interface IActionOutcome
{
    /// <summary>Gets what happened, in one sentence.</summary>
    string Message { get; }
}

/// <summary>A body with only a reason (pause, resume, abort, invalidate, reinstate).</summary>
/// <param name="Reason">Why.</param>
internal sealed record ReasonBody(string? Reason) : IReasoned;

/// <summary>The body of promote.</summary>
/// <param name="Reason">Why.</param>
/// <param name="Full">Deploy every remaining wave now.</param>
internal sealed record PromoteBody(string? Reason, bool Full = false) : IReasoned;

/// <summary>The body of rollback.</summary>
/// <param name="Reason">Why the bad build is invalidated (required).</param>
/// <param name="To">The build to roll back to; none: the newest valid build older than the bad one.</param>
internal sealed record RollbackBody(string? Reason, string? To = null) : IReasoned;

/// <summary>The body of a pin.</summary>
/// <param name="Reason">Why (required).</param>
/// <param name="Build">The build to hold the connector on.</param>
/// <param name="Exclude">Exclude the connector from rollouts instead of holding it on a build.</param>
internal sealed record PinBody(string? Reason, string? Build = null, bool Exclude = false) : IReasoned;

/// <summary>Who is signed in and what they may do.</summary>
/// <param name="Actor">The actor recorded for their actions.</param>
/// <param name="Name">Their display name.</param>
/// <param name="ObjectId">Their object id.</param>
/// <param name="CanOperate">Whether they hold the operator role.</param>
/// <param name="RefreshSeconds">How often the dashboard refreshes while a rollout is active.</param>
internal sealed record MeResponse(string Actor, string Name, string ObjectId, bool CanOperate, int RefreshSeconds);

/// <summary>A delivered build.</summary>
internal sealed record BuildResponse(
    string Build,
    long Size,
    string? Sha256,
    DateTimeOffset? DeliveredAt,
    bool IsCurrent,
    bool IsInFlight,
    bool IsCandidate,
    BuildInvalidation? Invalidation);

/// <summary>The version state at a glance.</summary>
internal sealed record StatusResponse(
    string? Current,
    string? InFlight,
    string? Candidate,
    DateTimeOffset? UpdatedAt,
    string? RolloutStatus,
    IReadOnlyList<BuildResponse> Builds,
    IReadOnlyList<BuildInvalidation> Invalidated,
    DateTimeOffset ServerTime);

/// <summary>The active (or latest) rollout.</summary>
/// <param name="Rollout">The record, or <see langword="null"/> before the first progressive rollout.</param>
/// <param name="Active">Whether it still needs ticks.</param>
/// <param name="ServerTime">The server's clock, for the bake countdown.</param>
internal sealed record RolloutResponse(RolloutRecord? Rollout, bool Active, DateTimeOffset ServerTime);

/// <summary>How many connectors run one version.</summary>
/// <param name="Version">The <c>PROJECT_VERSION</c>, or <see langword="null"/> when none is set.</param>
/// <param name="Connectors">How many.</param>
/// <param name="IsCurrent">Whether it is the current build.</param>
/// <param name="IsTarget">Whether it is the active rollout's target.</param>
internal sealed record VersionCount(string? Version, int Connectors, bool IsCurrent, bool IsTarget);

/// <summary>A connector on neither the current build nor the active rollout's target (nor its pin).</summary>
internal sealed record Straggler(string Connector, string? Version, string? PinnedTo, string? Error);

/// <summary>The fleet by version.</summary>
internal sealed record FleetResponse(
    string? Current,
    string? Target,
    int Total,
    IReadOnlyList<VersionCount> Versions,
    int Excluded,
    int Deleted,
    int StragglerCount,
    IReadOnlyList<Straggler> Stragglers);

/// <summary>A pinned or excluded connector.</summary>
internal sealed record PinResponse(string Connector, string? Build, bool Excluded, string Reason, string Actor, DateTimeOffset At)
{
    public static PinResponse Of(ConnectorPin pin) => new(pin.Connector, pin.Build?.ToString(), pin.Excluded, pin.Reason, pin.Actor, pin.At);
}

/// <summary>The answer of an operator command to the rollout.</summary>
internal sealed record CommandResponse(string Message, string Action, string Actor, string? Reason, RolloutRecord Rollout) : IActionOutcome;

/// <summary>The answer of invalidate, reinstate and unpin.</summary>
internal sealed record ChangeResponse(string Message, string Target, bool Changed, string Actor) : IActionOutcome;

/// <summary>The answer of a pin.</summary>
internal sealed record PinActionResponse(string Message, PinResponse Pin) : IActionOutcome;

/// <summary>The answer of a rollback: the run's report in short.</summary>
internal sealed record RollbackResponse(
    string Message,
    string RolloutId,
    string? From,
    string Target,
    bool Succeeded,
    string? StopReason,
    IReadOnlyDictionary<string, int> Counts,
    [property: JsonPropertyName("rollout")] RolloutRecord? Rollout) : IActionOutcome;
