using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Blobs;

/// <summary>The log lines of IoMT.Deployment.Blobs, event ids 2000-2999.</summary>
internal static partial class Log
{
    // 2000-2099: artifact source (read side).
    [LoggerMessage(2000, LogLevel.Warning, "Ignoring blob {BlobName} in container {Container}: its name is not {{build}}.zip with a valid build number.")]
    public static partial void IgnoredBlobName(ILogger logger, string blobName, string container);

    [LoggerMessage(2001, LogLevel.Debug, "Listed {Count} builds in container {Container} in {ElapsedMs} ms.")]
    public static partial void Listed(ILogger logger, int count, string container, long elapsedMs);

    [LoggerMessage(2002, LogLevel.Debug, "Opened build {Build} ({Size} bytes) in container {Container}.")]
    public static partial void Opened(ILogger logger, string build, long size, string container);

    [LoggerMessage(2003, LogLevel.Information, "Build {Build} in container {Container} has no recorded SHA-256; hashed on read: {Sha256}.")]
    public static partial void HashedOnRead(ILogger logger, string build, string container, string sha256);

    [LoggerMessage(2004, LogLevel.Error, "Build {Build} in container {Container} does not match its recorded SHA-256 (recorded {Expected}, read {Actual}); the package is refused.")]
    public static partial void PackageHashMismatch(ILogger logger, string build, string container, string expected, string actual);

    // 2100-2199: artifact publisher (write side).
    [LoggerMessage(2100, LogLevel.Information, "Published build {Build} ({Size} bytes, SHA-256 {Sha256}) to container {Container} in {ElapsedMs} ms.")]
    public static partial void Published(ILogger logger, string build, long size, string sha256, string container, long elapsedMs);

    [LoggerMessage(2101, LogLevel.Information, "Build {Build} is already in container {Container} with the same SHA-256 {Sha256}; nothing was written.")]
    public static partial void AlreadyPublished(ILogger logger, string build, string container, string sha256);

    [LoggerMessage(2102, LogLevel.Warning, "Build {Build} is already in container {Container} with different content (stored SHA-256 {ExistingSha256}, offered {Sha256}); nothing was written.")]
    public static partial void PublishConflict(ILogger logger, string build, string container, string? existingSha256, string sha256);

    [LoggerMessage(2103, LogLevel.Information, "Created the missing container {Container}.")]
    public static partial void ContainerCreated(ILogger logger, string container);

    // 2200-2299: rollout lock.
    [LoggerMessage(2200, LogLevel.Information, "{Owner} took the rollout lock {LockBlob} (lease of {LeaseSeconds} s, renewed every {RenewSeconds} s).")]
    public static partial void LockAcquired(ILogger logger, string owner, string lockBlob, double leaseSeconds, double renewSeconds);

    [LoggerMessage(2201, LogLevel.Information, "The rollout lock {LockBlob} is held by {Holder}; {Owner} skips this rollout.")]
    public static partial void LockHeldElsewhere(ILogger logger, string lockBlob, string holder, string owner);

    [LoggerMessage(2202, LogLevel.Debug, "{Owner} renewed the rollout lock {LockBlob}.")]
    public static partial void LockRenewed(ILogger logger, string owner, string lockBlob);

    [LoggerMessage(2203, LogLevel.Warning, "{Owner} could not renew the rollout lock {LockBlob} (status {Status}, {ErrorCode}); retrying while the lease is still valid.")]
    public static partial void LockRenewalFailed(ILogger logger, string owner, string lockBlob, int status, string? errorCode, Exception exception);

    [LoggerMessage(2204, LogLevel.Error, "{Owner} lost the rollout lock {LockBlob} (status {Status}, {ErrorCode}); the rollout is cancelled.")]
    public static partial void LockLost(ILogger logger, string owner, string lockBlob, int status, string? errorCode, Exception exception);

    [LoggerMessage(2205, LogLevel.Information, "{Owner} released the rollout lock {LockBlob} after {ElapsedMs} ms.")]
    public static partial void LockReleased(ILogger logger, string owner, string lockBlob, long elapsedMs);

    [LoggerMessage(2206, LogLevel.Warning, "{Owner} could not release the rollout lock {LockBlob} (status {Status}, {ErrorCode}); it expires on its own.")]
    public static partial void LockReleaseFailed(ILogger logger, string owner, string lockBlob, int status, string? errorCode, Exception exception);

    [LoggerMessage(2207, LogLevel.Information, "Created the rollout lock blob {LockBlob}.")]
    public static partial void LockBlobCreated(ILogger logger, string lockBlob);

    [LoggerMessage(2208, LogLevel.Error, "{Owner} could not confirm the rollout lock {LockBlob} in time: the lease may expire at {ExpiresAt:O} and the {MarginSeconds} s safety margin before that has begun; the lock is given up and the rollout is cancelled.")]
    public static partial void LockExpiring(ILogger logger, string owner, string lockBlob, DateTimeOffset expiresAt, double marginSeconds, Exception exception);
}
