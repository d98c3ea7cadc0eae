using System.Net;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.Cosmos;

/// <summary>Tells an unreachable or unanswering Cosmos DB account from an answer.</summary>
internal static class CosmosStoreFailures
{
    /// <summary>Whether a status means the service is down or did not answer in time (408, 502, 503, 504).</summary>
    public static bool IsUnavailable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// Whether the failure means the account could not be reached or did not answer: one of those statuses, a transport
    /// error or a timeout. A cancellation the caller asked for is not one; 429 (throttling) is not one either, it stays the
    /// SDK's own exception.
    /// </summary>
    public static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        CosmosException cosmos => IsUnavailable(cosmos.StatusCode),
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => IsUnavailable(e, cancellationToken)),
        _ => false,
    };

    /// <summary>What the failure was, briefly.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        CosmosException cosmos => $"HTTP {(int)cosmos.StatusCode}/{cosmos.SubStatusCode}",
        OperationCanceledException => "no answer in time",
        _ => exception.GetBaseException().Message,
    };
}
