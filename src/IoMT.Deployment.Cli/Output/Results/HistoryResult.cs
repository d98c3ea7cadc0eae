namespace IoMT.Deployment.Cli.Output;

/// <summary>A past rollout in <c>status</c>.</summary>
internal sealed record HistoryResult(string Id, RolloutKind Kind, string? From, string To, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, bool Succeeded, IReadOnlyDictionary<string, int> Counts)
{
    public static HistoryResult Of(RolloutHistoryEntry entry) =>
        new(entry.Id, entry.Kind, entry.From?.ToString(), entry.To.ToString(), entry.StartedAt, entry.CompletedAt, entry.Succeeded, entry.Counts);
}
