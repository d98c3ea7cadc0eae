using System.Text.Json.Serialization;

namespace IoMT.Deployment;

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
