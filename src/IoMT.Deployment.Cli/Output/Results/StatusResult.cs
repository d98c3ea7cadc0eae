namespace IoMT.Deployment.Cli.Output;

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
