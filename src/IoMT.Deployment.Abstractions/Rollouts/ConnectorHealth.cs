using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>A connector's health over a window.</summary>
/// <param name="Status">The status.</param>
/// <param name="Reason">Why, for <see cref="HealthStatus.Unhealthy"/> (and <see cref="HealthStatus.NoData"/> when the signal knows).</param>
public sealed record ConnectorHealth(HealthStatus Status, string? Reason = null)
{
    /// <summary>Gets a healthy result.</summary>
    public static ConnectorHealth Healthy { get; } = new(HealthStatus.Healthy);

    /// <summary>Gets a no-data result.</summary>
    public static ConnectorHealth NoData { get; } = new(HealthStatus.NoData);
}
