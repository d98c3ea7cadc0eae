using System.Runtime.CompilerServices;

namespace IoMT.Deployment;

/// <summary>
/// Lets the connector steps already running finish when the rollout's caller cancels (a host stopping, Ctrl+C): the
/// rollout starts no new step from that moment, and the running ones keep going for up to
/// <see cref="RolloutOptions.ShutdownDrainTimeout"/> before they are cancelled too. A step cut off mid-deployment would
/// leave its app without <c>PROJECT_VERSION</c>, and the resumed rollout would deploy it a second time.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _steps = new();
    private readonly Lock _gate = new();
    private readonly CancellationTokenRegistration _registration;
    private ITimer? _timer;
    private bool _disposed;

    public ShutdownDrain(TimeSpan drain, TimeProvider time, CancellationToken caller)
    {
        Caller = caller;
        _registration = caller.Register(() =>
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                if (drain <= TimeSpan.Zero)
                {
                    _steps.Cancel();
                }
                else
                {
                    _timer = time.CreateTimer(_ => CancelSteps(), null, drain, Timeout.InfiniteTimeSpan);
                }
            }
        });
    }

    /// <summary>Gets the caller's token: once cancelled, no new step starts.</summary>
    public CancellationToken Caller { get; }

    /// <summary>Gets the token of the running steps: cancelled only when the drain time is over.</summary>
    public CancellationToken Steps => _steps.Token;

    /// <summary>Ends <paramref name="source"/> (without an error) once the caller cancels, so the fan-out waits for the running steps instead of failing them.</summary>
    public async IAsyncEnumerable<ConnectorTarget> UntilStopped(IAsyncEnumerable<ConnectorTarget> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connectors = source.GetAsyncEnumerator(cancellationToken);
        while (!Caller.IsCancellationRequested)
        {
            bool more;
            try
            {
                more = await connectors.MoveNextAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Caller.IsCancellationRequested)
            {
                yield break;
            }

            if (!more || Caller.IsCancellationRequested)
            {
                yield break;
            }

            yield return connectors.Current;
        }
    }

    /// <summary>Whether a connector step may start: not once the caller cancelled, and only as the state watch allows.</summary>
    public static async ValueTask<bool> MayStartAsync(RolloutWatch watch, CancellationToken caller, CancellationToken step)
    {
        if (caller.IsCancellationRequested)
        {
            return false;
        }

        try
        {
            return await watch.MayContinueAsync(step).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (caller.IsCancellationRequested)
        {
            // The watch's shared read runs under the caller's token: a stop during it starts nothing, and fails nothing.
            return false;
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }

        _steps.Dispose();
    }

    private void CancelSteps()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _steps.Cancel();
            }
        }
    }
}
