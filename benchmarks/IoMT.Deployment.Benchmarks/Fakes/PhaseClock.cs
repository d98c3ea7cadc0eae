using System.Diagnostics;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// Notes, from inside the fakes, where an update's time and allocations go: before the first connector read (lock,
/// state, listing, package), the rollout (up to the last version write), the hand-over to verification, the
/// verification reads, and what follows them (report, logs, state write, history).
/// </summary>
internal sealed class PhaseClock
{
    private long _start;
    private long _firstRead;
    private long _lastWrite;
    private long _firstVerify;
    private long _lastVerify;
    private long _allocFirstRead;
    private long _allocFirstVerify;

    private int _gcStart;
    private int _gcAfterVerify;
    private int _gcEnd;

    public void Start()
    {
        _gcStart = GC.CollectionCount(0);
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>A read: of an app still on the old build (the rollout's) or on the new one (verification's).</summary>
    public void Read(bool verification)
    {
        var now = Stopwatch.GetTimestamp();
        if (!verification)
        {
            if (Interlocked.CompareExchange(ref _firstRead, now, 0) == 0)
            {
                _allocFirstRead = GC.GetTotalAllocatedBytes(precise: false);
            }

            return;
        }

        if (Interlocked.CompareExchange(ref _firstVerify, now, 0) == 0)
        {
            _allocFirstVerify = GC.GetTotalAllocatedBytes(precise: false);
        }

        Volatile.Write(ref _lastVerify, now);
        _gcAfterVerify = GC.CollectionCount(0);
    }

    public void Write() => Volatile.Write(ref _lastWrite, Stopwatch.GetTimestamp());

    private long _end;
    private long _allocEnd;

    public void Stop()
    {
        _gcEnd = GC.CollectionCount(0);
        _end = Stopwatch.GetTimestamp();
        _allocEnd = GC.GetTotalAllocatedBytes(precise: false);
    }

    /// <summary>Gets the phases' durations: before the first read, rollout, hand-over, verification, after.</summary>
    public TimeSpan[] Durations =>
    [
        Stopwatch.GetElapsedTime(_start, _firstRead),
        Stopwatch.GetElapsedTime(_firstRead, _lastWrite),
        Stopwatch.GetElapsedTime(_lastWrite, _firstVerify),
        Stopwatch.GetElapsedTime(_firstVerify, _lastVerify),
        Stopwatch.GetElapsedTime(_lastVerify, _end),
    ];

    /// <summary>Describes the fastest of each phase over several runs of one size.</summary>
    public static string DescribeFastest(IReadOnlyList<PhaseClock> runs, int connectors)
    {
        string[] names = ["before the first read", "rollout", "hand-over to verification", "verification", "after the last verification read"];
        var fastest = Enumerable.Range(0, names.Length).Select(i => runs.Min(r => r.Durations[i])).ToArray();
        var perConnector = fastest.Select(t => t.TotalMicroseconds * 1000 / connectors).ToArray();
        return string.Join("; ", names.Select((n, i) => $"{n} {Harness.Fmt.Ms(fastest[i])}" + (i is 1 or 3 or 4 ? $" ({Harness.Fmt.N(perConnector[i], "0")} ns/connector)" : string.Empty)))
            + $"; rollout + hand-over allocated {Harness.Fmt.N(runs.Average(r => r._allocFirstVerify - r._allocFirstRead) / connectors, "0")} B/connector, verification and after {Harness.Fmt.N(runs.Average(r => r._allocEnd - r._allocFirstVerify) / connectors, "0")} B/connector (fastest of {runs.Count} runs per phase); collections up to the last verification read {string.Join("/", runs.Select(r => r._gcAfterVerify - r._gcStart))}, after it {string.Join("/", runs.Select(r => r._gcEnd - r._gcAfterVerify))}";
    }
}
