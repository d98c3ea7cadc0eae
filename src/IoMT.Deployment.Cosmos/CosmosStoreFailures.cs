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
    /// error or a timeout; or an answer that refuses the work (429 beyond the retries, 401/403). A cancellation the caller
    /// asked for is not one.
    /// </summary>
    public static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        // Throttling beyond the SDK's retries and a refused identity are store failures too: they leave the adapter as
        // StoreThrottledException and StoreAccessDeniedException, never as the SDK's exception.
        CosmosException cosmos => IsUnavailable(cosmos.StatusCode) || cosmos.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden,
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
