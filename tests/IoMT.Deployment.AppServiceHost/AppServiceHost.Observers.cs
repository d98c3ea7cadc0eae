namespace IoMT.Deployment.Loopback;

/// <content>Request observers: a test reacts to a request as it is recorded, before its answer reaches the client.</content>
public sealed partial class AppServiceHost
{
    private readonly Lock _observersLock = new();
    private ImmutableObservers _observers = new([]);

    /// <summary>
    /// Calls <paramref name="observer"/> for every request recorded from now on, synchronously on the request's thread
    /// after the handler ran and before the response is completed, so a test can change faults (say, slow the next
    /// deployments) before the client sees the answer. Dispose the result to stop.
    /// </summary>
    /// <param name="observer">The observer; it must be quick and must not throw.</param>
    /// <returns>A handle that removes the observer.</returns>
    public IDisposable OnRequest(Action<RecordedRequest> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_observersLock)
        {
            _observers = new ImmutableObservers([.. _observers.Items, observer]);
        }

        return new Subscription(this, observer);
    }

    /// <summary>
    /// Completes when <paramref name="condition"/> on the host's state holds: checked once now and again each time the host
    /// records a request (through <see cref="OnRequest"/>, before the client has the answer). Nothing polls.
    /// </summary>
    /// <param name="condition">The condition, quick and thread-safe (it runs on request threads).</param>
    /// <param name="what">What the test waits for, for the message.</param>
    /// <param name="hangGuard">How long before the wait fails as hung: a guard only, never what a test asserts.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    /// <exception cref="TimeoutException">The condition did not hold within <paramref name="hangGuard"/>.</exception>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan hangGuard)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (OnRequest(_ =>
        {
            if (condition())
            {
                seen.TrySetResult();
            }
        }))
        {
            // Subscribed first, then checked: a request cannot fall between the two.
            if (condition())
            {
                seen.TrySetResult();
            }

            try
            {
                await seen.Task.WaitAsync(hangGuard).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"The host's requests never showed that {what} within {hangGuard} (the hang guard).");
            }
        }
    }

    private void NotifyObservers(RecordedRequest request)
    {
        foreach (var observer in Volatile.Read(ref _observers).Items)
        {
            observer(request);
        }
    }

    private void Remove(Action<RecordedRequest> observer)
    {
        lock (_observersLock)
        {
            _observers = new ImmutableObservers([.. _observers.Items.Where(o => o != observer)]);
        }
    }

    private sealed record ImmutableObservers(Action<RecordedRequest>[] Items);

    private sealed class Subscription(AppServiceHost host, Action<RecordedRequest> observer) : IDisposable
    {
        public void Dispose() => host.Remove(observer);
    }
}
