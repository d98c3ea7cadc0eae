using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What the gate asks a health signal about.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Build">The build the connector now runs.</param>
/// <param name="Since">The window's start (the wave's verification).</param>
/// <param name="Until">The window's end (the gate's evaluation).</param>
public sealed record HealthQuery(ConnectorTarget Connector, BuildNumber Build, DateTimeOffset Since, DateTimeOffset Until);
