using System.Diagnostics;
using Azure;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// A held blob lease, renewed on a timer until disposed. <see cref="LeaseLost"/> is a dead man's switch: it fires
/// <see cref="BlobRolloutLockOptions.SafetyMargin"/> before the lease can expire unless a renewal confirmed the lease
/// first, and at once when the service says the lease is gone.
/// </summary>
internal sealed class BlobRolloutLease : IRolloutLease
{
    private readonly BlobLeaseClient _lease;
    private readonly string _lockBlob;
    private readonly string _owner;
    private readonly BlobRolloutLockOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    // Fires on its own at the deadline (the switch); a confirmed renewal pushes the deadline out. Never disposed:
    // callers may still hold LeaseLost after the rollout ended; its timer is disarmed when the lease is disposed.
    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource _stopping = new();
    private readonly long _acquiredTimestamp;
    private readonly Task _renewal;
    private DateTimeOffset _expiresAt;
    private int _disposed;

    /// <summary>Starts renewing a lease just taken; <c>validSince</c> is when the request that took it was sent, as the service cannot count its duration from earlier.</summary>
    public BlobRolloutLease(BlobLeaseClient lease, string lockBlob, string owner, BlobRolloutLockOptions options, DateTimeOffset validSince, TimeProvider timeProvider, ILogger logger)
    {
        _lease = lease;
        _lockBlob = lockBlob;
        _owner = owner;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _acquiredTimestamp = Stopwatch.GetTimestamp();
        _expiresAt = validSince + options.LeaseDuration;
        _lost = new CancellationTokenSource(Until(_expiresAt - options.SafetyMargin), timeProvider);
        _renewal = RenewUntilStoppedAsync();
    }

    public CancellationToken LeaseLost => _lost.Token;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Made first, so that the bound covers stopping the renewal too.
        using var releaseTimeout = new CancellationTokenSource(_options.ReleaseTimeout, _timeProvider);
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

        // The rollout is over: the switch must not fire for a lease given back.
        _lost.CancelAfter(Timeout.InfiniteTimeSpan);
        try
        {
            await _lease.ReleaseAsync(cancellationToken: releaseTimeout.Token).ConfigureAwait(false);
            Log.LockReleased(_logger, _owner, _lockBlob, (long)Stopwatch.GetElapsedTime(_acquiredTimestamp).TotalMilliseconds);
        }
        catch (Exception ex)
        {
            // Handled, whatever the failure (an answer, retries run out, no answer within ReleaseTimeout): an unreleased
            // lease expires after LeaseDuration, and failing the finished rollout would hide its real outcome.
            var (status, reason) = Describe(ex, releaseTimeout.IsCancellationRequested, _options.ReleaseTimeout);
            Log.LockReleaseFailed(_logger, _owner, _lockBlob, status, reason, ex);
        }
    }

    /// <summary>Status and a short reason for the log line, for an answer or for no answer.</summary>
    internal static (int Status, string? Reason) Describe(Exception exception, bool timedOut, TimeSpan bound) =>
        exception is RequestFailedException { Status: > 0 } failed
            ? (failed.Status, failed.ErrorCode)
            : (0, timedOut ? $"no answer within {bound.TotalSeconds:0.#} s" : BlobStoreFailures.Describe(exception));

    private TimeSpan Until(DateTimeOffset moment)
    {
        var left = moment - _timeProvider.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async Task RenewUntilStoppedAsync()
    {
        using var timer = new PeriodicTimer(_options.RenewInterval, _timeProvider);
        using var stoppedOrLost = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, _lost.Token);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppedOrLost.Token).ConfigureAwait(false))
            {
                var attemptedAt = _timeProvider.GetUtcNow();

                // One attempt lasts at most until the next tick (a retry on a fresh request may get through where a
                // stuck one does not) and never past the switch, whatever the storage client's retry policy would do.
                using var attemptTimeout = new CancellationTokenSource(_options.RenewInterval, _timeProvider);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppedOrLost.Token, attemptTimeout.Token);
                try
                {
                    await _lease.RenewAsync(cancellationToken: attempt.Token).ConfigureAwait(false);
                    Confirmed(attemptedAt);
                    Log.LockRenewed(_logger, _owner, _lockBlob);
                }
                catch (Exception ex) when (!stoppedOrLost.IsCancellationRequested)
                {
                    var (status, reason) = Describe(ex, attemptTimeout.IsCancellationRequested, _options.RenewInterval);

                    // 404/409/412: the lease was broken, taken over or expired, or the blob is gone. Anything else may be
                    // transient and is retried on the next tick, if that comes before the switch.
                    var definitive = status is 404 or 409 or 412;
                    if (definitive || _timeProvider.GetUtcNow() + _options.RenewInterval >= _expiresAt - _options.SafetyMargin)
                    {
                        Log.LockLost(_logger, _owner, _lockBlob, status, reason, ex);
                        await _lost.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    Log.LockRenewalFailed(_logger, _owner, _lockBlob, status, reason, ex);
                }
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            // Disposed: the rollout ended; an attempt it interrupted has nothing to report.
        }
        catch (Exception ex) when (_lost.IsCancellationRequested)
        {
            // The switch fired: no renewal confirmed the lease in time (ex is the wait or the attempt it cut short).
            Log.LockExpiring(_logger, _owner, _lockBlob, _expiresAt, _options.SafetyMargin.TotalSeconds, ex);
        }
    }

    private void Confirmed(DateTimeOffset attemptedAt)
    {
        // The service counts the new duration from when it got the request, never earlier than it was sent.
        _expiresAt = attemptedAt + _options.LeaseDuration;
        _lost.CancelAfter(Until(_expiresAt - _options.SafetyMargin));
    }
}
