using System.Diagnostics;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// Simulated latency that ends when it says: one timer thread sleeps until about a millisecond before the next deadline
/// and yields the processor for the rest, then completes the waiting task (its continuation runs on the thread pool).
/// <see cref="Task.Delay(int)"/> rounds to the OS timer and overshoots by up to a millisecond or more, which on a 2 ms read
/// would be a 50% error in the very latency the makespan target is measured against.
/// </summary>
internal sealed class PreciseDelay : IDisposable
{
    private static readonly long SpinWindow = Stopwatch.Frequency / 1000; // the last millisecond is yielded away, not slept
    private readonly PriorityQueue<TaskCompletionSource, long> _queue = new();
    private readonly Lock _gate = new();
    private readonly AutoResetEvent _signal = new(false);
    private readonly Thread _thread;
    private volatile bool _stopped;
    private long _count;
    private long _lateTicks;

    public PreciseDelay()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "precise-delay", Priority = ThreadPriority.Highest };
        _thread.Start();
    }

    /// <summary>Gets the mean time a delay ended after its deadline.</summary>
    public TimeSpan MeanLateness => _count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _lateTicks) / Interlocked.Read(ref _count));

    /// <summary>Gets the number of delays completed.</summary>
    public long Count => Interlocked.Read(ref _count);

    public Task Delay(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        var due = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool first;
        lock (_gate)
        {
            first = !_queue.TryPeek(out _, out var head) || due < head;
            _queue.Enqueue(completion, due);
        }

        if (first)
        {
            _signal.Set();
        }

        return completion.Task;
    }

    public void Dispose()
    {
        _stopped = true;
        _signal.Set();
        _thread.Join();
        _signal.Dispose();
    }

    private void Loop()
    {
        var ready = new List<TaskCompletionSource>();
        while (!_stopped)
        {
            long due;
            var now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
                while (_queue.TryPeek(out var completion, out due) && due <= now)
                {
                    _queue.Dequeue();
                    ready.Add(completion);
                    _lateTicks += now - due;
                    _count++;
                }

                if (!_queue.TryPeek(out _, out due))
                {
                    due = long.MaxValue;
                }
            }

            foreach (var completion in ready)
            {
                completion.TrySetResult();
            }

            ready.Clear();
            if (due == long.MaxValue)
            {
                _signal.WaitOne();
                continue;
            }

            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining > SpinWindow)
            {
                _signal.WaitOne(TimeSpan.FromSeconds((double)(remaining - SpinWindow) / Stopwatch.Frequency));
            }
            else if (remaining > 0)
            {
                Thread.Yield();
            }
        }
    }
}
