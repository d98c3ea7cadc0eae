using System.Diagnostics;
using Azure;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Blobs;

/// <summary>A held blob lease, renewed on a timer until disposed; a renewal that cannot succeed cancels <see cref="LeaseLost"/>.</summary>
internal sealed class BlobRolloutLease : IRolloutLease
{
    private readonly BlobLeaseClient _lease;
    private readonly string _lockBlob;
    private readonly string _owner;
    private readonly BlobRolloutLockOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    // Never disposed: callers may still hold LeaseLost after the rollout ended; it owns no timer or wait handle.
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _acquiredTimestamp;
    private readonly Task _renewal;
    private int _disposed;

    public BlobRolloutLease(BlobLeaseClient lease, string lockBlob, string owner, BlobRolloutLockOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _lease = lease;
        _lockBlob = lockBlob;
        _owner = owner;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _acquiredTimestamp = Stopwatch.GetTimestamp();
        _renewal = RenewUntilStoppedAsync();
    }

    public CancellationToken LeaseLost => _lost.Token;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _renewal.ConfigureAwait(false);
        }
        finally
        {
            _stopping.Dispose();
        }

        if (_lost.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _lease.ReleaseAsync().ConfigureAwait(false);
            Log.LockReleased(_logger, _owner, _lockBlob, (long)Stopwatch.GetElapsedTime(_acquiredTimestamp).TotalMilliseconds);
        }
        catch (RequestFailedException ex)
        {
            // Handled: an unreleased lease expires after LeaseDuration; failing the finished rollout would not help.
            Log.LockReleaseFailed(_logger, _owner, _lockBlob, ex.Status, ex.ErrorCode, ex);
        }
    }

    private async Task RenewUntilStoppedAsync()
    {
        using var timer = new PeriodicTimer(_options.RenewInterval, _timeProvider);
        var validSince = _timeProvider.GetUtcNow();
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var attemptedAt = _timeProvider.GetUtcNow();
                try
                {
                    await _lease.RenewAsync(cancellationToken: _stopping.Token).ConfigureAwait(false);
                    validSince = attemptedAt;
                    Log.LockRenewed(_logger, _owner, _lockBlob);
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    var status = (ex as RequestFailedException)?.Status ?? 0;
                    var errorCode = (ex as RequestFailedException)?.ErrorCode;

                    // 404/409/412: the lease was broken, taken over or expired, or the blob is gone. Anything else may be
                    // transient and is retried on the next tick while the lease is still valid then.
                    var definitive = status is 404 or 409 or 412;
                    var validUntil = validSince + _options.LeaseDuration;
                    if (definitive || _timeProvider.GetUtcNow() + _options.RenewInterval >= validUntil)
                    {
                        Log.LockLost(_logger, _owner, _lockBlob, status, errorCode, ex);
                        await _lost.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    Log.LockRenewalFailed(_logger, _owner, _lockBlob, status, errorCode, ex);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed: the rollout ended.
        }
    }
}
