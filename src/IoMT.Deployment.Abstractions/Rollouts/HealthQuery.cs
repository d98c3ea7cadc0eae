using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What the gate asks a health signal about.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Build">The build the connector now runs.</param>
/// <param name="Since">The window's start (the wave's verification).</param>
/// <param name="Until">The window's end (the gate's evaluation).</param>
public sealed record HealthQuery(ConnectorTarget Connector, BuildNumber Build, DateTimeOffset Since, DateTimeOffset Until)
{
    /// <summary>The most peers the engine names in one query: a sample, so a large fleet does not cost a read per connector per query.</summary>
    public const int MaxPeers = 50;

    /// <summary>
    /// Gets the not-yet-updated connectors of the fleet (those of the later waves), a deterministic sample of at most
    /// <see cref="MaxPeers"/>, the same list for every connector of the wave being judged; a signal may compare the
    /// connector with them over the same window. Empty when there is no later wave.
    /// </summary>
    public IReadOnlyList<ConnectorTarget> Peers { get; init; } = [];
}
