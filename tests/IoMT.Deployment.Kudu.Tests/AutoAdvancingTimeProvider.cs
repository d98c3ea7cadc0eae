using Microsoft.Extensions.Time.Testing;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>
/// A fake clock that moves itself, and only when something waits on it: whenever a timer is pending (a <c>Task.Delay</c>
/// on the clock), it jumps to the earliest due time and fires it. Nothing runs on the wall clock, so a retry that honours
/// a 1 s <c>Retry-After</c> costs no real second, and what a test reads off the clock (the host's request timestamps) is
/// exact: a request sent after a wait on this clock is stamped at least the wait later. Code that waited on the system
/// clock instead would not move it at all.
/// </summary>
internal sealed class AutoAdvancingTimeProvider : FakeTimeProvider, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<PendingTimer> _pending = [];
    private readonly SemaphoreSlim _changed = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _driver;
    private readonly DateTimeOffset _start;

    public AutoAdvancingTimeProvider()
        : base(DateTimeOffset.UtcNow)
    {
        _start = GetUtcNow();
        _driver = Task.Run(DriveAsync);
    }

    /// <summary>Gets how far the clock has moved itself (only the driver moves it).</summary>
    public TimeSpan Advanced => GetUtcNow() - _start;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var pending = new PendingTimer(this, period);
        pending.Schedule(GetUtcNow(), dueTime);
        pending.Inner = base.CreateTimer(
            s =>
            {
                pending.Fired();
                callback(s);
            },
            state,
            dueTime,
            period);
        return pending;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _driver;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        _changed.Dispose();
    }

    private async Task DriveAsync()
    {
        while (true)
        {
            await _changed.WaitAsync(_stop.Token);
            while (true)
            {
                DateTimeOffset? next;
                lock (_lock)
                {
                    next = _pending.Count == 0 ? null : _pending.Min(p => p.Due);
                }

                if (next is not { } due)
                {
                    break;
                }

                var now = GetUtcNow();
                if (due > now)
                {
                    Advance(due - now);
                }
                else
                {
                    // Due already: FakeTimeProvider fires it on the next move; a tick is enough.
                    Advance(TimeSpan.FromTicks(1));
                }

                await Task.Yield();
            }
        }
    }

    // Due times are read and written under the lock (the driver reads them from its own thread).
    private void Track(PendingTimer timer, DateTimeOffset? due)
    {
        lock (_lock)
        {
            if (due is { } at)
            {
                timer.Due = at;
                _pending.Add(timer);
            }
            else
            {
                _pending.Remove(timer);
            }
        }

        if (due is not null)
        {
            _changed.Release();
        }
    }

    private sealed class PendingTimer(AutoAdvancingTimeProvider clock, TimeSpan period) : ITimer
    {
        private TimeSpan _period = period;

        public ITimer? Inner { get; set; }

        public DateTimeOffset Due { get; set; }

        public void Schedule(DateTimeOffset now, TimeSpan dueTime) =>
            clock.Track(this, dueTime == Timeout.InfiniteTimeSpan ? null : now + dueTime);

        public void Fired()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                clock.Track(this, null);
            }
            else
            {
                Schedule(clock.GetUtcNow(), _period);
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            Schedule(clock.GetUtcNow(), dueTime);
            return Inner!.Change(dueTime, period);
        }

        public void Dispose()
        {
            clock.Track(this, null);
            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
