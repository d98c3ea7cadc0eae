namespace IoMT.Deployment;

/// <summary>What one rollout did: per connector and in total.</summary>
public sealed record RolloutReport
{
    /// <summary>Gets the rollout's id.</summary>
    public required string RolloutId { get; init; }

    /// <summary>Gets what started the rollout.</summary>
    public required RolloutKind Kind { get; init; }

    /// <summary>Gets the current build before the rollout.</summary>
    public BuildNumber? From { get; init; }

    /// <summary>Gets the target build.</summary>
    public required BuildNumber Target { get; init; }

    /// <summary>Gets when the rollout started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Gets when the rollout ended.</summary>
    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>Gets every connector's result, verification included.</summary>
    public required IReadOnlyList<ConnectorResult> Connectors { get; init; }

    /// <summary>Gets a value indicating whether every surviving connector was verified on the target and the current build now is the target.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Gets the rollout's duration.</summary>
    public TimeSpan Duration => CompletedAt - StartedAt;

    /// <summary>Gets the number of connectors with an outcome.</summary>
    /// <param name="outcome">The outcome.</param>
    /// <returns>The count.</returns>
    public int Count(ConnectorOutcome outcome)
    {
        var n = 0;
        foreach (var result in Connectors)
        {
            if (result.Outcome == outcome)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Gets the number of connectors whose verification found a mismatch.</summary>
    public int Mismatched => Connectors.Count(c => c.Verification == VerificationOutcome.Mismatch);

    /// <summary>Gets the totals by outcome name, every outcome present.</summary>
    /// <returns>The totals.</returns>
    public IReadOnlyDictionary<string, int> Totals()
    {
        var totals = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var outcome in Enum.GetValues<ConnectorOutcome>())
        {
            totals[outcome.ToString()] = 0;
        }

        foreach (var result in Connectors)
        {
            totals[result.Outcome.ToString()]++;
        }

        return totals;
    }
}
