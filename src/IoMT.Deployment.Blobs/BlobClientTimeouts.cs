using Azure.Core;
using Azure.Storage.Blobs;

namespace IoMT.Deployment.Blobs;

/// <summary>Bounds how long a storage client takes to give up on a service that is down or does not answer.</summary>
public static class BlobClientTimeouts
{
    /// <summary>The tries a bounded client makes: the first and three retries.</summary>
    public const int MaxRetries = 3;

    /// <summary>
    /// Sets the client's retries so that a request to an unreachable or unanswering service fails within
    /// <paramref name="timeToFail"/>: four tries of at most a tenth of it each, with exponential delays of at most a tenth
    /// between them (plus Azure.Core's jitter), which leaves about a quarter of the bound for the client's own work and late
    /// timers on a busy host. The adapters then throw <see cref="StoreUnavailableException"/>.
    /// </summary>
    /// <param name="options">The client options to change.</param>
    /// <param name="timeToFail">The bound, between 1 second and 10 minutes. Each try may wait for an answer (or, while a package
    /// downloads, for its next bytes) a tenth of it, so keep it well above the slowest expected answer; 30 seconds or more in Azure.</param>
    /// <returns>The same options.</returns>
    public static BlobClientOptions Bound(BlobClientOptions options, TimeSpan timeToFail)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeToFail, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timeToFail, TimeSpan.FromMinutes(10));
        // 4 tries x 1/10 + 3 delays x 1/10 x 1.2 (jitter) = 0.76 of the bound, in the worst case.
        var slice = timeToFail / 10;
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.NetworkTimeout = slice;
        options.Retry.MaxDelay = slice;
        options.Retry.Delay = TimeSpan.FromMilliseconds(Math.Min(800, slice.TotalMilliseconds / 4));
        return options;
    }
}
