using System.Globalization;
using Azure;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// The ways an Azure.Core call fails without an answer we can use: an error status (<see cref="RequestFailedException"/>),
/// retries exhausted by transport errors (<see cref="AggregateException"/>), or a network timeout (an
/// <see cref="OperationCanceledException"/> the caller did not ask for).
/// </summary>
internal static class ServiceFailures
{
    /// <summary>
    /// The one way the App Service deployers turn a service failure into the connector's failure: what was being done,
    /// then what the service answered, classified (<see cref="DeploymentFailureKind"/>) so a threshold can tell a bad
    /// build from throttling.
    /// </summary>
    public static DeploymentFailedException Fail(string connectorId, string whatFailed, Exception ex, string? detail = null, Exception? innerException = null) =>
        new(connectorId, Sentence.End($"{whatFailed}: {Describe(ex)}") + detail, innerException ?? ex, KindOf(ex));

    public static bool IsServiceFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is RequestFailedException or AggregateException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>Whether the failure had no HTTP answer at all (transport errors or a network timeout): the host may be gone.</summary>
    public static bool IsUnanswered(Exception ex, CancellationToken cancellationToken) =>
        ex is RequestFailedException { Status: 0 } or AggregateException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>What a failure without a usable answer is attributed to: a 429 that outlasted the retries is throttling, the rest the platform's.</summary>
    public static DeploymentFailureKind KindOf(Exception ex) => ex switch
    {
        RequestFailedException { Status: 429 } => DeploymentFailureKind.Throttled,
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 => KindOf(aggregate.InnerExceptions[^1]),
        _ => DeploymentFailureKind.Transient,
    };

    /// <summary>What an error status is attributed to: 429 throttling, 408 and 5xx the platform, anything else not known.</summary>
    public static DeploymentFailureKind KindOf(int status) => status switch
    {
        429 => DeploymentFailureKind.Throttled,
        408 or >= 500 => DeploymentFailureKind.Transient,
        _ => DeploymentFailureKind.Unknown,
    };

    public static bool IsTimeout(Exception ex) => ex switch
    {
        OperationCanceledException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsTimeout),
        _ => false,
    };

    /// <summary>A short description that names the status or the failure, never a header or a token.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        RequestFailedException { Status: 0 } failed => "no response (" + (failed.InnerException?.GetType().Name ?? nameof(RequestFailedException)) + ")",
        RequestFailedException failed when failed.ErrorCode is not null => $"{failed.Status.ToString(CultureInfo.InvariantCulture)} ({failed.ErrorCode})",
        RequestFailedException failed => failed.Status.ToString(CultureInfo.InvariantCulture),
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 =>
            $"no usable answer after {aggregate.InnerExceptions.Count.ToString(CultureInfo.InvariantCulture)} tries, the last: {Describe(aggregate.InnerExceptions[^1])}",
        OperationCanceledException => "a network timeout",
        _ => ex.GetType().Name,
    };
}
