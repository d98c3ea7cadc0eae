namespace IoMT.Deployment.Cli.Output;

/// <summary>
/// The result of <c>update --dry-run</c>. <see cref="Subscriptions"/> and <see cref="LimitsBoundMs"/> are set when the
/// provider registers deployment limits (the azure provider's per-subscription ARM throttle), and are null otherwise.
/// </summary>
internal sealed record PlanResult(
    bool DryRun,
    RolloutKind Kind,
    string? Current,
    string Target,
    IReadOnlyList<PlannedConnectorResult> ToUpdate,
    IReadOnlyList<PlannedConnectorResult> Skipped,
    IReadOnlyList<PlannedWaveResult> Waves,
    IReadOnlyList<PinResult> Pinned,
    IReadOnlyList<PinResult> Excluded,
    long EstimatedDurationMs,
    string Fingerprint,
    RolloutStateResult? Active,
    IReadOnlyList<SubscriptionLimitResult>? Subscriptions,
    long? LimitsBoundMs)
{
    public static PlanResult Of(RolloutPlan plan, VersionState state)
    {
        var pins = PinResult.Of(state, fleet: null);
        return new(
            true,
            plan.Kind,
            plan.Current?.ToString(),
            plan.Target.ToString(),
            [.. plan.Connectors.Where(c => c.Action == PlannedAction.Deploy).Select(c => new PlannedConnectorResult(c.Connector.Id, c.CurrentVersion, null))],
            [.. plan.Connectors.Where(c => c.Action != PlannedAction.Deploy).Select(c => new PlannedConnectorResult(c.Connector.Id, c.CurrentVersion, SkipReason(c, state)))],
            [.. plan.Waves.Select(PlannedWaveResult.Of)],
            [.. pins.Where(p => !p.Excluded)],
            [.. pins.Where(p => p.Excluded)],
            (long)plan.EstimatedDuration.TotalMilliseconds,
            plan.Fingerprint,
            RolloutStateResult.Of(plan.Active),
            plan.Limits is { } limits ? [.. limits.Scopes.Select(SubscriptionLimitResult.Of)] : null,
            plan.Limits is { } bound ? (long)bound.Duration.TotalMilliseconds : null);
    }

    private static string SkipReason(PlannedConnector connector, VersionState state) => connector.Action switch
    {
        PlannedAction.SkipDeleted => "deleted",
        PlannedAction.SkipPinned => state.PinOf(connector.Connector.Id)?.Build is { } build ? $"pinned to build {build}" : "pinned",
        PlannedAction.SkipExcluded => "excluded from rollouts",
        _ => "already on the target",
    };
}
