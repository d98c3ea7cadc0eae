namespace IoMT.Deployment.Cli.Output;

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
