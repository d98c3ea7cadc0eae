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
