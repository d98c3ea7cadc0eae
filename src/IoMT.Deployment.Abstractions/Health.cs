using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What a health signal says of a connector over a time window.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HealthStatus>))]
public enum HealthStatus
{
    /// <summary>The connector works.</summary>
    Healthy,

    /// <summary>The connector does not work; see the reason.</summary>
    Unhealthy,

    /// <summary>The signal has no data for the window. Never read as healthy or unhealthy: a gate that gets it pauses the rollout.</summary>
    NoData,
}

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

/// <summary>What the gate asks a health signal about.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Build">The build the connector now runs.</param>
/// <param name="Since">The window's start (the wave's verification).</param>
/// <param name="Until">The window's end (the gate's evaluation).</param>
public sealed record HealthQuery(ConnectorTarget Connector, BuildNumber Build, DateTimeOffset Since, DateTimeOffset Until);

/// <summary>
/// A per-connector health signal the rollout's health gates read (the local provider's <c>health.json</c>, Azure Monitor
/// metrics, Application Insights, …). Register one or more; the gate combines them (any Unhealthy wins, then NoData).
/// </summary>
public interface IConnectorHealthSignal
{
    /// <summary>Gets the signal's name, for verdicts and logs.</summary>
    string Name { get; }

    /// <summary>Judges one connector over a window.</summary>
    /// <param name="query">The connector, build and window.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The health. A signal that cannot tell returns <see cref="HealthStatus.NoData"/>; it throws only for cancellation.</returns>
    ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default);
}
