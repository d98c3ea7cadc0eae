namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>update</c> and <c>rollback</c>.</summary>
internal sealed record RolloutResult(
    string RolloutId,
    RolloutKind Kind,
    string? From,
    string Target,
    bool Succeeded,
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt,
    long DurationMs,
    IReadOnlyDictionary<string, int> Totals,
    int Mismatched,
    IReadOnlyList<ConnectorRolloutResult> Connectors,
    string? StopReason,
    RolloutStateResult? Rollout)
{
    public static RolloutResult Of(RolloutReport report) => new(
        report.RolloutId,
        report.Kind,
        report.From?.ToString(),
        report.Target.ToString(),
        report.Succeeded,
        report.StartedAt,
        report.CompletedAt,
        (long)report.Duration.TotalMilliseconds,
        report.Totals(),
        report.Mismatched,
        [.. report.Connectors
            .OrderBy(c => c.Connector.Id, StringComparer.Ordinal)
            .Select(c => new ConnectorRolloutResult(
                c.Connector.Id,
                c.Outcome,
                c.PreviousVersion,
                c.Verification,
                c.VerifiedVersion,
                (long)c.Duration.TotalMilliseconds,
                c.ErrorMessage ?? (c.Verification == VerificationOutcome.Mismatch ? $"PROJECT_VERSION is '{c.VerifiedVersion ?? "(not set)"}' after the rollout" : null)))],
        report.StopReason,
        RolloutStateResult.Of(report.Rollout, report.NextTickAt));
}
