namespace IoMT.Deployment.Cli.Output;

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
