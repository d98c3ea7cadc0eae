using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>One rollout in the bounded history kept beside the version state.</summary>
public sealed record RolloutHistoryEntry
{
    /// <summary>Gets the rollout's id.</summary>
    public required string Id { get; init; }

    /// <summary>Gets what started the rollout.</summary>
    public required RolloutKind Kind { get; init; }

    /// <summary>Gets the current build before the rollout.</summary>
    public BuildNumber? From { get; init; }

    /// <summary>Gets the target build.</summary>
    public required BuildNumber To { get; init; }

    /// <summary>Gets when the rollout started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Gets when the rollout ended.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Gets whether every surviving connector was verified on the target and the current build moved to it.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Gets the number of connectors by outcome name (<see cref="ConnectorOutcome"/>).</summary>
    public IReadOnlyDictionary<string, int> Counts { get; init; } = new Dictionary<string, int>();

    /// <summary>The history entry of a run: one place that turns a report into what the history keeps.</summary>
    /// <param name="report">The run's report (a tick of a progressive rollout counts from the rollout's start).</param>
    /// <returns>The entry.</returns>
    public static RolloutHistoryEntry Of(RolloutReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new RolloutHistoryEntry
        {
            Id = report.RolloutId,
            Kind = report.Kind,
            From = report.From,
            To = report.Target,
            StartedAt = report.Rollout?.StartedAt ?? report.StartedAt,
            CompletedAt = report.CompletedAt,
            Succeeded = report.Succeeded,
            Counts = report.Totals(),
        };
    }
}
