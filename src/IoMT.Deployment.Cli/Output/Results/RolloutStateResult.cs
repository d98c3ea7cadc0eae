namespace IoMT.Deployment.Cli.Output;

/// <summary>
/// A progressive rollout as <c>update</c>, <c>rollout status</c>, <c>status</c> and <c>verify</c> print it under
/// <c>rollout</c>: <c>status</c>, <c>target</c>, <c>wave</c> (the current wave's index) and <c>waves</c> are the contract.
/// </summary>
internal sealed record RolloutStateResult(
    string Id,
    RolloutStatus Status,
    string Target,
    string? From,
    int Wave,
    IReadOnlyList<WaveResult> Waves,
    string? StatusReason,
    DateTimeOffset? BakeUntil,
    DateTimeOffset? NextTickAt,
    bool Active,
    bool PromoteRequested,
    bool PromoteFull,
    bool AbortRequested,
    string Fingerprint,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<FailedConnector> FailedConnectors,
    IReadOnlyList<CommandResult> Commands)
{
    public static RolloutStateResult? Of(RolloutRecord? rollout, DateTimeOffset? nextTickAt = null) => rollout is null ? null : new(
        rollout.Id,
        rollout.Status,
        rollout.Target.ToString(),
        rollout.From?.ToString(),
        rollout.Wave,
        [.. rollout.Waves.Select(WaveResult.Of)],
        rollout.StatusReason,
        rollout.BakeUntil,
        nextTickAt,
        rollout.IsActive,
        rollout.PromoteRequested,
        rollout.PromoteFull,
        rollout.AbortRequested,
        rollout.Fingerprint,
        rollout.StartedAt,
        rollout.UpdatedAt,
        rollout.FailedConnectors,
        [.. rollout.Commands.Select(c => new CommandResult(c.Action, c.Actor, c.Reason, c.At))]);
}
