using Azure;
using Azure.Storage.Blobs;

namespace IoMT.Deployment.Blobs;

/// <summary>Tells an unreachable or unanswering storage service from an answer, and maps it to <see cref="StoreUnavailableException"/>.</summary>
internal static class BlobStoreFailures
{
    /// <summary>
    /// Whether the failure means the service could not be reached or did not answer in time: a transport error, a
    /// timeout, a 408 or 5xx answer, or the storage client's retries running out on those (an <see cref="AggregateException"/>).
    /// A cancellation the caller asked for is not one.
    /// </summary>
    public static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        RequestFailedException failed => failed.Status is 0 or 408 or 500 or 502 or 503 or 504,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => IsUnavailable(e, cancellationToken)),
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or TimeoutException => true,
        _ => false,
    };

    /// <summary>Whether the failure is the store's as infrastructure: unavailable, throttled (429), or refusing the identity (401/403, no token).</summary>
    public static bool IsStoreFailure(Exception exception, CancellationToken cancellationToken) =>
        IsUnavailable(exception, cancellationToken)
        || exception is RequestFailedException { Status: 401 or 403 or 429 } or Azure.Identity.AuthenticationFailedException;

    /// <summary>Maps a store failure to the Abstractions' exception: throttled, access denied or unavailable.</summary>
    public static StoreException Map(string store, BlobContainerClient container, string operation, Exception exception) => exception switch
    {
        RequestFailedException { Status: 429 } => new StoreThrottledException(store, Endpoint(container), operation, null, exception),
        RequestFailedException { Status: 401 or 403 } denied => new StoreAccessDeniedException(store, Endpoint(container), operation, $"{denied.Status}, {denied.ErrorCode ?? "no error code"}", exception),
        Azure.Identity.AuthenticationFailedException => new StoreAccessDeniedException(store, Endpoint(container), operation, "no token could be obtained for the identity", exception),
        _ => Unavailable(store, container, operation, exception),
    };

    /// <summary>The exception for an unavailable store, naming the container's endpoint (never a SAS) and the operation.</summary>
    public static StoreUnavailableException Unavailable(string store, BlobContainerClient container, string operation, Exception exception) =>
        new(store, Endpoint(container), operation, isTransient: true, Describe(exception), exception);

    /// <summary>The container's address without its query (a SAS token is a secret).</summary>
    public static string Endpoint(BlobContainerClient container) => container.Uri.GetLeftPart(UriPartial.Path);

    /// <summary>What the failure was, briefly: the last attempt's root cause and how many attempts the client made.</summary>
    public static string Describe(Exception exception)
    {
        var attempts = exception is AggregateException aggregate ? aggregate.InnerExceptions.Count : 1;
        var last = exception is AggregateException a && a.InnerExceptions.Count > 0 ? a.InnerExceptions[^1] : exception;
        var root = last.GetBaseException();
        var what = last switch
        {
            RequestFailedException { Status: > 0 } failed => $"the service answered {failed.Status} ({failed.ErrorCode ?? "no error code"})",
            OperationCanceledException => "no answer in time",
            _ => root.Message,
        };
        return attempts > 1 ? $"{attempts} attempts; the last: {what}" : what;
    }
}
