using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// The one-active-rollout lock as a lease on a lock blob: taken for <see cref="BlobRolloutLockOptions.LeaseDuration"/>,
/// renewed in the background every <see cref="BlobRolloutLockOptions.RenewInterval"/>, released when the lease is
/// disposed. The lock blob (and its container) is created when missing.
/// </summary>
/// <remarks>
/// A holder that cannot confirm its lease (storage unreachable or not answering) gives it up
/// <see cref="BlobRolloutLockOptions.SafetyMargin"/> before the service can let it expire: <see cref="IRolloutLease.LeaseLost"/>
/// fires then, so the rollout stops starting connector operations before another replica can take the lock.
/// </remarks>
public sealed class BlobRolloutLock : IRolloutLock
{
    private const string OwnerMetadataKey = "owner";
    private const string AcquiredAtMetadataKey = "acquiredat";

    private readonly BlobContainerClient _container;
    private readonly BlobRolloutLockOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Creates the lock.</summary>
    /// <param name="container">The container of the lock blob; its name wins over <see cref="BlobRolloutLockOptions.ContainerName"/>.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">Drives the renewal timer; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the message names the setting.</exception>
    public BlobRolloutLock(BlobContainerClient container, BlobRolloutLockOptions? options = null, TimeProvider? timeProvider = null, ILogger<BlobRolloutLock>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        options ??= new BlobRolloutLockOptions();
        IoMT.Deployment.Composition.DeploymentOptionsValidation.ThrowIfInvalid(options);
        _container = container;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the lock blob's address (container and blob name), as the log lines name it.</summary>
    public string LockBlob => $"{_container.Name}/{_options.LockBlobName}";

    /// <inheritdoc/>
    /// <remarks>
    /// Returns <see langword="null"/> and logs who holds the lock when another replica's lease is active. Records the
    /// owner in the lock blob's metadata so that the replicas it keeps out can say who holds it.
    /// </remarks>
    /// <exception cref="StoreUnavailableException">The storage service could not be reached or did not answer (retries run out, timed out, 5xx).</exception>
    /// <exception cref="StoreAccessDeniedException">The storage service refused the identity (401, 403, no token).</exception>
    /// <exception cref="StoreThrottledException">The storage service throttled the requests beyond the client's retries.</exception>
    public async Task<IRolloutLease?> TryAcquireAsync(string owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        try
        {
            return await AcquireAsync(owner, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (BlobStoreFailures.IsStoreFailure(ex, cancellationToken))
        {
            throw BlobStoreFailures.Map(StoreUnavailableException.RolloutLock, _container, $"take the lock {_options.LockBlobName}", ex);
        }
    }

    private async Task<IRolloutLease?> AcquireAsync(string owner, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(_options.LockBlobName);
        var lease = blob.GetBlobLeaseClient(Guid.NewGuid().ToString());
        DateTimeOffset validSince;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                validSince = _timeProvider.GetUtcNow();
                await lease.AcquireAsync(_options.LeaseDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.LeaseAlreadyPresent || ex.ErrorCode == BlobErrorCode.LeaseIsBreakingAndCannotBeAcquired)
            {
                var holder = await DescribeHolderAsync(blob, cancellationToken).ConfigureAwait(false);
                Log.LockHeldElsewhere(_logger, LockBlob, holder, owner);
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && attempt <= 2)
            {
                await CreateLockBlobAsync(blob, containerMissing: ex.ErrorCode == BlobErrorCode.ContainerNotFound, cancellationToken).ConfigureAwait(false);
            }
        }

        var acquiredAt = _timeProvider.GetUtcNow();
        try
        {
            var record = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [OwnerMetadataKey] = Uri.EscapeDataString(owner.Length > 256 ? owner[..256] : owner),
                [AcquiredAtMetadataKey] = acquiredAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            };

            // Bounded by the lease: a rollout must not start on a lease that may have expired while the record was written.
            using var recordTimeout = new CancellationTokenSource(Until(validSince + _options.LeaseDuration - _options.SafetyMargin), _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, recordTimeout.Token);
            await blob.SetMetadataAsync(record, new BlobRequestConditions { LeaseId = lease.LeaseId }, linked.Token).ConfigureAwait(false);
        }
        catch
        {
            // Do not keep the lock for a rollout that will not run; the original failure is rethrown.
            await ReleaseAfterFailedStartAsync(lease, owner).ConfigureAwait(false);
            throw;
        }

        Log.LockAcquired(_logger, owner, LockBlob, _options.LeaseDuration.TotalSeconds, _options.RenewInterval.TotalSeconds);
        return new BlobRolloutLease(lease, LockBlob, owner, _options, validSince, _timeProvider, _logger);
    }

    private TimeSpan Until(DateTimeOffset moment)
    {
        var left = moment - _timeProvider.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async Task ReleaseAfterFailedStartAsync(BlobLeaseClient lease, string owner)
    {
        using var timeout = new CancellationTokenSource(_options.ReleaseTimeout, _timeProvider);
        try
        {
            await lease.ReleaseAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Handled: the lease expires after LeaseDuration; the failure that stopped the start is what the caller sees.
            var (status, reason) = BlobRolloutLease.Describe(ex, timeout.IsCancellationRequested, _options.ReleaseTimeout);
            Log.LockReleaseFailed(_logger, owner, LockBlob, status, reason, ex);
        }
    }

    private async Task CreateLockBlobAsync(BlobClient blob, bool containerMissing, CancellationToken cancellationToken)
    {
        if (containerMissing)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
            Log.LockBlobCreated(_logger, LockBlob);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.BlobAlreadyExists || ex.Status == 412)
        {
            // Another replica created it first; the lease decides who holds the lock.
        }
    }

    private static async Task<string> DescribeHolderAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var metadata = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.Metadata;
            return metadata.TryGetValue(OwnerMetadataKey, out var owner)
                ? metadata.TryGetValue(AcquiredAtMetadataKey, out var at) ? $"{Uri.UnescapeDataString(owner)} (since {at})" : Uri.UnescapeDataString(owner)
                : "another replica";
        }
        catch (RequestFailedException ex)
        {
            // Only the diagnostic record is missing; the lease answer already told us the lock is held.
            return $"another replica (its record could not be read: {ex.Status} {ex.ErrorCode})";
        }
    }
}
