namespace IoMT.Deployment.Tests;

/// <summary>Starts N calls at the same instant, each on a thread of its own, so they really overlap.</summary>
internal static class Simultaneously
{
    /// <summary>Runs <paramref name="call"/> on <paramref name="count"/> dedicated threads released together by a barrier.</summary>
    public static Task<T[]> RunAsync<T>(int count, Func<int, Task<T>> call)
    {
        // Dedicated threads, not the pool: on a 2-core machine the pool would add threads slowly and run the calls in turn.
        using var barrier = new Barrier(count);
        var started = new Task<T>[count];
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            barrier.SignalAndWait();
            started[i] = call(i);
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        return Task.WhenAll(started);
    }
}
