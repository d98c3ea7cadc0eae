namespace IoMT.Deployment.Cli.Output;

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
