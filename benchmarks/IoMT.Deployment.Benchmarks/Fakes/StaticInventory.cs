using System.Runtime.CompilerServices;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>A fixed list of connectors.</summary>
internal sealed class StaticInventory(IReadOnlyList<ConnectorTarget> connectors) : IConnectorInventory
{
#pragma warning disable CS1998
    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
    {
        foreach (var connector in connectors)
        {
            yield return connector;
        }
    }

    public Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default) =>
        Task.FromResult(connectors.Any(c => c.Id == connectorId));
}
