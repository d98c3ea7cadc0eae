using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.Cosmos;

/// <summary>Bounds how long a Cosmos DB client takes to give up on an account that is down or does not answer.</summary>
public static class CosmosClientTimeouts
{
    /// <summary>
    /// Sets the client's network timeouts from <paramref name="timeToFail"/> (a quarter of it per request and per
    /// connection attempt), so that an unreachable or unanswering account fails the adapters' operations with
    /// <see cref="StoreUnavailableException"/> in about that time. Throttling (429) keeps the SDK's own retries.
    /// </summary>
    /// <param name="options">The client options to change; set their connection mode first.</param>
    /// <param name="timeToFail">The bound, between 1 second and 10 minutes.</param>
    /// <returns>The same options.</returns>
    public static CosmosClientOptions Bound(CosmosClientOptions options, TimeSpan timeToFail)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeToFail, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timeToFail, TimeSpan.FromMinutes(10));
        var slice = timeToFail / 4;
        options.RequestTimeout = slice;
        if (options.ConnectionMode == ConnectionMode.Direct)
        {
            options.OpenTcpConnectionTimeout = slice;
        }
        return options;
    }
}
