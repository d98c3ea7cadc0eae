namespace IoMT.Deployment.Cli.Output;

// The JSON contract of every command's result. Build numbers are strings; times are ISO 8601; durations in milliseconds.

/// <summary>A failed command, in JSON mode.</summary>
internal sealed record ErrorResult(ErrorDetail Error);

/// <summary>What failed.</summary>
internal sealed record ErrorDetail(int ExitCode, string Kind, string Type, string Message);

/// <summary>The result of <c>package</c>.</summary>
internal sealed record PackageResult(string File, int Files, long Size, string Sha256);

/// <summary>The result of <c>deliver</c>.</summary>
internal sealed record DeliverResult(string Build, DeliveryOutcome Outcome, string Sha256, long Size, string? SameAsBuild, bool Written);

/// <summary>An invalidated build.</summary>
internal sealed record InvalidationResult(string Build, string Reason, DateTimeOffset At, string Actor)
{
    public static InvalidationResult Of(BuildInvalidation invalidation) =>
        new(invalidation.Build.ToString(), invalidation.Reason, invalidation.At, invalidation.Actor);
}

/// <summary>A delivered build in <c>status</c>.</summary>
internal sealed record BuildResult(string Build, long Size, string? Sha256, DateTimeOffset? LastModified, bool Valid, bool Current, bool InFlight, InvalidationResult? Invalidation);

/// <summary>The connectors that report one <c>PROJECT_VERSION</c>.</summary>
internal sealed record VersionGroup(string? Version, int Count, IReadOnlyList<string> Connectors);

/// <summary>A connector whose <c>PROJECT_VERSION</c> is not the current build.</summary>
internal sealed record StragglerResult(string Connector, string? ProjectVersion, string? Error);

/// <summary>
/// The fleet by version in <c>status</c>. <c>onCurrent</c> counts the connectors that run the current build; a pinned
/// connector verified on its pin is not a straggler, and an excluded one (its version not judged) is listed apart.
/// </summary>
internal sealed record FleetResult(string? Expected, int Total, int OnCurrent, IReadOnlyList<VersionGroup> ByVersion, IReadOnlyList<StragglerResult> Stragglers, IReadOnlyList<string> Deleted, IReadOnlyList<string> Excluded)
{
    public static FleetResult Of(FleetVerification fleet)
    {
        var live = fleet.Connectors.Where(c => c.Outcome != VerificationOutcome.Deleted).ToList();
        var judged = live.Where(c => c.Outcome != VerificationOutcome.Excluded).ToList();
        var groups = judged
            .GroupBy(c => c.ProjectVersion, StringComparer.Ordinal)
            .Select(g => new VersionGroup(g.Key, g.Count(), [.. g.Select(c => c.Connector.Id).Order(StringComparer.Ordinal)]))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Version, StringComparer.Ordinal)
            .ToList();
        var expected = fleet.Expected?.ToString();
        return new FleetResult(
            expected,
            live.Count,
            expected is null ? 0 : judged.Count(c => c.Outcome == VerificationOutcome.Verified && string.Equals(c.ProjectVersion, expected, StringComparison.Ordinal)),
            groups,
            [.. live.Where(c => c.Outcome == VerificationOutcome.Mismatch).Select(c => new StragglerResult(c.Connector.Id, c.ProjectVersion, c.Error))],
            [.. fleet.Connectors.Where(c => c.Outcome == VerificationOutcome.Deleted).Select(c => c.Connector.Id)],
            [.. live.Where(c => c.Outcome == VerificationOutcome.Excluded).Select(c => c.Connector.Id).Order(StringComparer.Ordinal)]);
    }
}

/// <summary>A past rollout in <c>status</c>.</summary>
internal sealed record HistoryResult(string Id, RolloutKind Kind, string? From, string To, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, bool Succeeded, IReadOnlyDictionary<string, int> Counts)
{
    public static HistoryResult Of(RolloutHistoryEntry entry) =>
        new(entry.Id, entry.Kind, entry.From?.ToString(), entry.To.ToString(), entry.StartedAt, entry.CompletedAt, entry.Succeeded, entry.Counts);
}

/// <summary>The result of <c>status</c>.</summary>
internal sealed record StatusResult(
    string Provider,
    string Location,
    string? Current,
    string? InFlight,
    string? Candidate,
    IReadOnlyList<InvalidationResult> Invalidated,
    IReadOnlyList<BuildResult> Builds,
    FleetResult? Fleet,
    IReadOnlyList<HistoryResult> History,
    RolloutStateResult? Rollout,
    IReadOnlyList<PinResult> Pins)
{
    public static StatusResult Of(DeploymentStatus status, string provider, string location)
    {
        var state = status.State;
        return new StatusResult(
            provider,
            location,
            state.Current?.ToString(),
            state.InFlight?.ToString(),
            status.Candidate?.ToString(),
            [.. state.Invalidated.OrderBy(i => i.Build).Select(InvalidationResult.Of)],
            [.. status.Builds.Select(b => new BuildResult(
                b.Artifact.Build.ToString(),
                b.Artifact.Size,
                b.Artifact.Sha256,
                b.Artifact.LastModified,
                b.Invalidation is null,
                state.Current == b.Artifact.Build,
                state.InFlight == b.Artifact.Build,
                b.Invalidation is null ? null : InvalidationResult.Of(b.Invalidation)))],
            status.Fleet is null ? null : FleetResult.Of(status.Fleet),
            [.. status.History.Select(HistoryResult.Of)],
            RolloutStateResult.Of(state.Rollout),
            PinResult.Of(state, status.Fleet));
    }
}

/// <summary>One connector in a rollout's result.</summary>
internal sealed record ConnectorRolloutResult(string Connector, ConnectorOutcome Outcome, string? PreviousVersion, VerificationOutcome? Verification, string? VerifiedVersion, long DurationMs, string? Error);

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

/// <summary>One connector in a dry-run plan.</summary>
internal sealed record PlannedConnectorResult(string Connector, string? CurrentVersion, string? Reason);

/// <summary>One wave of a dry-run plan; durations in milliseconds.</summary>
internal sealed record PlannedWaveResult(string Name, int Count, IReadOnlyList<string> Connectors, long BakeTimeMs, int? MaxFailed, double? MaxFailedPercent, bool RequireApproval, bool RequireHealth)
{
    public static PlannedWaveResult Of(PlannedWave wave) => new(
        wave.Name,
        wave.Connectors.Count,
        wave.Connectors,
        (long)wave.BakeTime.TotalMilliseconds,
        wave.MaxFailed,
        wave.MaxFailedPercent,
        wave.RequireApproval,
        wave.RequireHealth);
}

/// <summary>The result of <c>update --dry-run</c>.</summary>
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
    RolloutStateResult? Active)
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
            RolloutStateResult.Of(plan.Active));
    }

    private static string SkipReason(PlannedConnector connector, VersionState state) => connector.Action switch
    {
        PlannedAction.SkipDeleted => "deleted",
        PlannedAction.SkipPinned => state.PinOf(connector.Connector.Id)?.Build is { } build ? $"pinned to build {build}" : "pinned",
        PlannedAction.SkipExcluded => "excluded from rollouts",
        _ => "already on the target",
    };
}

/// <summary>One connector in <c>verify</c>.</summary>
internal sealed record VerifiedConnectorResult(string Connector, VerificationOutcome Outcome, string? ProjectVersion, string? Error);

/// <summary>The result of <c>verify</c>.</summary>
internal sealed record VerifyResult(
    string? Expected,
    bool AllVerified,
    int Verified,
    int Mismatched,
    int Deleted,
    IReadOnlyList<VerifiedConnectorResult> Connectors,
    IReadOnlyList<PinResult> Pins,
    RolloutStateResult? Rollout)
{
    public static VerifyResult Of(FleetVerification fleet, VersionState state) => new(
        fleet.Expected?.ToString(),
        fleet.AllVerified,
        fleet.Connectors.Count(c => c.Outcome == VerificationOutcome.Verified),
        fleet.Connectors.Count(c => c.Outcome == VerificationOutcome.Mismatch),
        fleet.Connectors.Count(c => c.Outcome == VerificationOutcome.Deleted),
        [.. fleet.Connectors.Select(c => new VerifiedConnectorResult(c.Connector.Id, c.Outcome, c.ProjectVersion, c.Error))],
        PinResult.Of(state, fleet),
        RolloutStateResult.Of(state.Rollout));
}

/// <summary>The result of <c>invalidate</c> and <c>reinstate</c>.</summary>
internal sealed record BuildStateChangeResult(string Build, bool Invalidated, bool Changed, string Actor, string? Reason);

/// <summary>A connector in <c>connectors list</c>.</summary>
internal sealed record ConnectorListItem(string Id, bool Canary, string? ResourceId);

/// <summary>The result of <c>connectors list</c>.</summary>
internal sealed record ConnectorListResult(IReadOnlyList<ConnectorListItem> Connectors);

/// <summary>The result of <c>connectors add</c> and <c>connectors remove</c>.</summary>
internal sealed record ConnectorChangeResult(IReadOnlyList<string> Changed, IReadOnlyList<string> Unchanged);

/// <summary>One wave of a progressive rollout: its counts and status.</summary>
internal sealed record WaveResult(
    string Name,
    int Connectors,
    int Updated,
    int Failed,
    int Unhealthy,
    WaveStatus Status,
    int Transient,
    int NoData,
    int Deleted,
    int Attempts,
    DateTimeOffset? StartedAt,
    DateTimeOffset? VerifiedAt,
    string? Verdict)
{
    public static WaveResult Of(WaveRecord wave) => new(
        wave.Name,
        wave.Connectors,
        wave.Updated,
        wave.Failed,
        wave.Unhealthy,
        wave.Status,
        wave.Transient,
        wave.NoData,
        wave.Deleted,
        wave.Attempts,
        wave.StartedAt,
        wave.VerifiedAt,
        wave.Verdict);
}

/// <summary>An operator command recorded on a rollout.</summary>
internal sealed record CommandResult(OperatorAction Action, string Actor, string? Reason, DateTimeOffset At);

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

/// <summary>
/// A pinned or excluded connector. <c>projectVersion</c> and <c>onPin</c> are filled when the fleet was read;
/// <c>buildInvalidated</c> says loudly that the build it is held on was invalidated.
/// </summary>
internal sealed record PinResult(string Connector, string? Build, bool Excluded, string Reason, string Actor, DateTimeOffset At, bool BuildInvalidated, string? ProjectVersion, bool? OnPin)
{
    public static IReadOnlyList<PinResult> Of(VersionState state, FleetVerification? fleet)
    {
        Dictionary<string, string?>? versions = fleet?.Connectors
            .Where(c => c.Outcome != VerificationOutcome.Deleted)
            .ToDictionary(c => c.Connector.Id, c => c.ProjectVersion, StringComparer.Ordinal);
        return [.. state.Pins
            .OrderBy(p => p.Connector, StringComparer.Ordinal)
            .Select(p =>
            {
                string? version = null;
                var read = versions?.TryGetValue(p.Connector, out version) == true;
                return new PinResult(
                    p.Connector,
                    p.Build?.ToString(),
                    p.Excluded,
                    p.Reason,
                    p.Actor,
                    p.At,
                    p.Build is { } build && state.IsInvalidated(build),
                    version,
                    read && p.Build is { } pinned ? string.Equals(version, pinned.ToString(), StringComparison.Ordinal) : null);
            })];
    }
}

/// <summary>The result of <c>rollout status</c>.</summary>
internal sealed record RolloutStatusResult(string? Current, RolloutStateResult? Rollout, IReadOnlyList<PinResult> Pins);

/// <summary>The result of <c>rollout pause|resume|promote|abort</c>.</summary>
internal sealed record RolloutCommandResult(OperatorAction Action, string Actor, string? Reason, RolloutStateResult Rollout);

/// <summary>The result of <c>connectors pin</c> and <c>connectors unpin</c>.</summary>
internal sealed record PinChangeResult(string Connector, bool Pinned, string? Build, bool Excluded, bool Changed, string Actor, string? Reason);
