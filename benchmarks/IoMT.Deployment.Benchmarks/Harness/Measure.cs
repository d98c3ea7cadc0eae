using System.Diagnostics;

namespace IoMT.Deployment.Benchmarks.Harness;

/// <summary>What one measured run cost: wall time, process CPU time, bytes allocated and peak managed memory.</summary>
/// <param name="Elapsed">Wall-clock time.</param>
/// <param name="Cpu">Process CPU time, user and kernel (every thread: the run's, the thread pool's, the GC's, the JIT's), from <see cref="Environment.CpuUsage"/>.</param>
/// <param name="AllocatedBytes">Bytes allocated by every thread, from <see cref="GC.GetTotalAllocatedBytes"/> (precise).</param>
/// <param name="BaselineBytes">Managed heap after a full, compacting collection just before the run.</param>
/// <param name="PeakBytes">Highest managed heap seen during the run (see <see cref="MemorySampler"/>).</param>
/// <param name="Gen0">Gen 0 collections during the run.</param>
/// <param name="Gen2">Gen 2 collections during the run.</param>
/// <param name="KernelCpu">The kernel part of <paramref name="Cpu"/> (page faults, system calls).</param>
internal sealed record RunCost(TimeSpan Elapsed, TimeSpan Cpu, long AllocatedBytes, long BaselineBytes, long PeakBytes, int Gen0, int Gen2, TimeSpan KernelCpu)
{
    public long PeakGrowthBytes => PeakBytes - BaselineBytes;
}

/// <summary>Measures one run of an asynchronous operation.</summary>
internal static class Measure
{
    /// <summary>
    /// Runs <paramref name="run"/> once after a full collection, with a <see cref="MemorySampler"/> watching the heap, and
    /// returns its cost and its result.
    /// </summary>
    public static async Task<(RunCost Cost, T Result)> RunAsync<T>(Func<Task<T>> run, bool sampleMemory = true)
    {
        // Start from a fresh thread-pool stack: the thread that finished the previous run can still hold its last
        // objects (a 100,000-connector report) until it runs something else, which would inflate this run's baseline.
        await Task.Delay(10).ConfigureAwait(false);
        FullCollect();
        var baseline = GC.GetTotalMemory(forceFullCollection: false);
        var gen0 = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        using var sampler = sampleMemory ? MemorySampler.Start() : null;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var cpu = Environment.CpuUsage;
        var clock = Stopwatch.StartNew();
        var result = await run().ConfigureAwait(false);
        clock.Stop();
        var cpuAfter = Environment.CpuUsage;
        var allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
        var peak = sampler?.Stop() ?? 0;
        var cost = new RunCost(
            clock.Elapsed,
            cpuAfter.TotalTime - cpu.TotalTime,
            allocatedAfter - allocated,
            baseline,
            Math.Max(peak, baseline),
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(2) - gen2,
            cpuAfter.PrivilegedTime - cpu.PrivilegedTime);
        return (cost, result);
    }

    /// <summary>Collects everything collectable, twice, so a run starts from its live set only.</summary>
    public static void FullCollect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>The median of some values.</summary>
    public static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// Samples the managed heap on a background thread every millisecond with <see cref="GC.GetTotalMemory"/>(false) — the
/// heap as it stands, garbage not yet collected included, so the peak it finds is an upper bound of what was live.
/// </summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peak;

    private MemorySampler()
    {
        _peak = GC.GetTotalMemory(forceFullCollection: false);
        _thread = new Thread(Loop) { IsBackground = true, Name = "memory-sampler", Priority = ThreadPriority.AboveNormal };
    }

    public static MemorySampler Start()
    {
        var sampler = new MemorySampler();
        sampler._thread.Start();
        return sampler;
    }

    /// <summary>Stops sampling and returns the peak, in bytes.</summary>
    public long Stop()
    {
        _stop = true;
        _thread.Join();
        Sample();
        return Interlocked.Read(ref _peak);
    }

    public void Dispose()
    {
        if (!_stop)
        {
            Stop();
        }
    }

    private void Loop()
    {
        while (!_stop)
        {
            Sample();
            Thread.Sleep(1);
        }
    }

    private void Sample()
    {
        var now = GC.GetTotalMemory(forceFullCollection: false);
        if (now > Interlocked.Read(ref _peak))
        {
            Interlocked.Exchange(ref _peak, now);
        }
    }
}
