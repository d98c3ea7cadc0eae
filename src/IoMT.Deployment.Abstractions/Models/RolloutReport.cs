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

    /// <summary>
    /// Gets why the rollout stopped before reaching every connector (its target was invalidated while it ran), or
    /// <see langword="null"/> when it ran to the end. A stopped rollout never succeeds; its connectors not started are
    /// <see cref="ConnectorOutcome.Stopped"/>.
    /// </summary>
    public string? StopReason { get; init; }

    /// <summary>Gets the progressive rollout's record after this tick, or <see langword="null"/> for a run without one (stragglers).</summary>
    public RolloutRecord? Rollout { get; init; }

    /// <summary>Gets when the rollout next needs a tick (the end of a bake), or <see langword="null"/> when nothing is scheduled.</summary>
    public DateTimeOffset? NextTickAt { get; init; }

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
    public IReadOnlyDictionary<string, int> Totals() => TotalsOf(CountByOutcome(Connectors));

    /// <summary>Counts results by outcome in one pass.</summary>
    /// <param name="results">The results.</param>
    /// <returns>The counts, indexed by <c>(int)</c><see cref="ConnectorOutcome"/>.</returns>
    public static int[] CountByOutcome(IReadOnlyList<ConnectorResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var counts = new int[OutcomeNames.Length];
        for (var i = 0; i < results.Count; i++)
        {
            counts[(int)results[i].Outcome]++;
        }

        return counts;
    }

    /// <summary>Turns counts by outcome into totals by outcome name.</summary>
    /// <param name="counts">The counts, indexed by <c>(int)</c><see cref="ConnectorOutcome"/>.</param>
    /// <returns>The totals, every outcome present.</returns>
    public static IReadOnlyDictionary<string, int> TotalsOf(int[] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var totals = new Dictionary<string, int>(OutcomeNames.Length, StringComparer.Ordinal);
        for (var i = 0; i < OutcomeNames.Length; i++)
        {
            totals[OutcomeNames[i]] = counts[i];
        }

        return totals;
    }

    private static readonly string[] OutcomeNames = Enum.GetNames<ConnectorOutcome>();
}
