using IoMT.Deployment.Diagnostics;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment;

/// <summary>
/// Watches the version state while a rollout runs, so that an invalidation of its target (by <c>invalidate</c>, by a
/// <c>rollback</c> waiting for the lock, by another process) stops it within <see cref="RolloutOptions.StateWatchInterval"/>.
/// </summary>
/// <remarks>
/// Reading the state before every connector would cost one store read per connector (10,000 at fleet scale). Instead the
/// watch is a freshness gate: a connector may start its deployment only when the state was read less than one interval
/// ago; otherwise the caller waits for one shared read (single flight). So no deployment of the target starts later than
/// one interval after its invalidation was stored, whatever the parallelism, at the cost of one read per interval. When
/// the state cannot be read for three intervals the rollout stops too: it cannot know it is still wanted.
/// </remarks>
internal sealed class RolloutWatch
{
    private readonly IVersionStore _versions;
    private readonly BuildNumber _target;
    private readonly Func<VersionState, string?> _stopCheck;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationToken _rolloutToken;
    private readonly Lock _gate = new();
    private Task? _reading;
    private DateTimeOffset _freshUntil;
    private DateTimeOffset _lastConfirmed;
    private string? _stopReason;

    public RolloutWatch(IVersionStore versions, BuildNumber target, TimeSpan interval, TimeProvider time, ILogger logger, CancellationToken rolloutToken, Func<VersionState, string?>? stopCheck = null)
    {
        _stopCheck = stopCheck ?? (_ => null);
        _rolloutToken = rolloutToken;
        _versions = versions;
        _target = target;
        _interval = interval;
        _time = time;
        _logger = logger;
        var now = time.GetUtcNow();
        _freshUntil = now + interval;
        _lastConfirmed = now;
    }

    /// <summary>Gets why the rollout stopped, or <see langword="null"/> while it may go on.</summary>
    public string? StopReason => Volatile.Read(ref _stopReason);

    /// <summary>Waits, when the last read is older than one interval, for a fresh read; then says whether the rollout may go on.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when the rollout may start its next step.</returns>
    public async ValueTask<bool> MayContinueAsync(CancellationToken cancellationToken)
    {
        Task reading;
        lock (_gate)
        {
            if (_stopReason is not null)
            {
                return false;
            }

            if (_time.GetUtcNow() < _freshUntil)
            {
                return true;
            }

            _reading ??= ReadAsync();
            reading = _reading;
        }

        await reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        return StopReason is null;
    }

    // One read shared by every waiting step, under the rollout's token rather than any one step's.
    private async Task ReadAsync()
    {
        var cancellationToken = _rolloutToken;
        // Yield so that the read never runs under the caller's lock.
        await Task.Yield();
        var started = _time.GetUtcNow();
        string? stop = null;
        try
        {
            var state = (await _versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
            var invalidation = state.Invalidated.FirstOrDefault(i => i.Build == _target);
            stop = invalidation is not null
                ? $"build {_target} was invalidated while the rollout ran (by {invalidation.Actor} at {invalidation.At:u}: {invalidation.Reason})"
                : _stopCheck(state);

            lock (_gate)
            {
                _lastConfirmed = started;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StateWatchReadFailed(_logger, ex, _target.ToString());
            if (started - _lastConfirmed >= 3 * _interval)
            {
                stop = $"the version state could not be read for {started - _lastConfirmed:g}, so the rollout cannot tell whether build {_target} is still wanted";
            }
        }
        finally
        {
            lock (_gate)
            {
                _reading = null;
                _freshUntil = started + _interval;
                _stopReason ??= stop;
            }
        }
    }
}
