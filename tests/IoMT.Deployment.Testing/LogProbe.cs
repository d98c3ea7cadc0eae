using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace IoMT.Deployment.Testing;

/// <summary>A <see cref="FakeLogger{T}"/> that also lets a test await log events instead of sleeping.</summary>
public sealed class LogProbe<T> : ILogger<T>
{
    private readonly List<(int EventId, int Count, TaskCompletionSource Logged)> _waiters = [];

    /// <summary>Gets the fake logger that keeps the records.</summary>
    public FakeLogger<T> Logger { get; } = new();

    /// <summary>Gets the records logged so far.</summary>
    public IReadOnlyList<FakeLogRecord> Records => Logger.Collector.GetSnapshot();

    /// <summary>Gets the records logged so far with event id <paramref name="eventId"/>.</summary>
    public IEnumerable<FakeLogRecord> WithId(int eventId) => Records.Where(r => r.Id.Id == eventId);

    /// <summary>
    /// Completes once event <paramref name="eventId"/> has been logged <paramref name="count"/> times (now or before);
    /// fails with a <see cref="TimeoutException"/> after <paramref name="timeout"/> (30 seconds unless given), a hang guard only.
    /// </summary>
    public Task WaitForAsync(int eventId, int count = 1, TimeSpan? timeout = null)
    {
        var logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (WithId(eventId).Count() >= count)
            {
                logged.TrySetResult();
            }
            else
            {
                _waiters.Add((eventId, count, logged));
            }
        }

        return logged.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => Logger.BeginScope(state);

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Logger.Log(logLevel, eventId, state, exception, formatter);
        lock (_waiters)
        {
            var count = WithId(eventId.Id).Count();
            foreach (var waiter in _waiters.Where(w => w.EventId == eventId.Id && count >= w.Count).ToList())
            {
                waiter.Logged.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }
}
