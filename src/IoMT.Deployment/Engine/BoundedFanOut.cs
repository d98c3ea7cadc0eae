namespace IoMT.Deployment;

/// <summary>Runs an operation for every connector of a stream, at most N at a time, and collects the results.</summary>
internal static class BoundedFanOut
{
    /// <summary>Runs <paramref name="operation"/> for every connector, at most <paramref name="maxParallelism"/> at once.</summary>
    /// <returns>The results, in completion order.</returns>
    public static async Task<List<T>> RunAsync<T>(
        IAsyncEnumerable<ConnectorTarget> connectors,
        int maxParallelism,
        Func<ConnectorTarget, CancellationToken, ValueTask<T>> operation,
        CancellationToken cancellationToken)
    {
        var results = new List<T>();
        var gate = new Lock();
        await Parallel.ForEachAsync(
            connectors,
            new ParallelOptions { MaxDegreeOfParallelism = maxParallelism, CancellationToken = cancellationToken },
            async (connector, ct) =>
            {
                var result = await operation(connector, ct).ConfigureAwait(false);
                lock (gate)
                {
                    results.Add(result);
                }
            }).ConfigureAwait(false);
        return results;
    }
}
