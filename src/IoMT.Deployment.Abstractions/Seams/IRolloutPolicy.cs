namespace IoMT.Deployment;

/// <summary>
/// Decides the order and pace in which a rollout reaches the connectors. Today: everything at once with bounded
/// parallelism; a policy can add canary rings, waves or failure thresholds without touching the engine.
/// </summary>
public interface IRolloutPolicy
{
    /// <summary>Runs <paramref name="connectorStep"/> for every connector and collects the results.</summary>
    /// <param name="connectors">The connectors, streamed.</param>
    /// <param name="connectorStep">Brings one connector to the target; it never throws except for cancellation.</param>
    /// <param name="cancellationToken">Cancels the rollout.</param>
    /// <returns>One result per connector reached.</returns>
    Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(
        IAsyncEnumerable<ConnectorTarget> connectors,
        Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep,
        CancellationToken cancellationToken = default);
}
