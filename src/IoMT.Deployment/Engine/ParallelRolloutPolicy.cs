using Microsoft.Extensions.Options;

namespace IoMT.Deployment;

/// <summary>The default rollout policy: every connector at once, at most <see cref="RolloutOptions.MaxParallelism"/> at a time.</summary>
public sealed class ParallelRolloutPolicy : IRolloutPolicy
{
    private readonly int _maxParallelism;

    /// <summary>Creates the policy.</summary>
    /// <param name="options">The rollout options.</param>
    public ParallelRolloutPolicy(IOptions<RolloutOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxParallelism = options.Value.MaxParallelism;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ConnectorResult>> ExecuteAsync(
        IAsyncEnumerable<ConnectorTarget> connectors,
        Func<ConnectorTarget, CancellationToken, ValueTask<ConnectorResult>> connectorStep,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectors);
        ArgumentNullException.ThrowIfNull(connectorStep);
        return await BoundedFanOut.RunAsync(connectors, _maxParallelism, connectorStep, cancellationToken).ConfigureAwait(false);
    }
}
