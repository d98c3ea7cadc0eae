using System.Diagnostics;
using IoMT.Deployment.Benchmarks.Fakes;
using IoMT.Deployment.Benchmarks.Harness;

namespace IoMT.Deployment.Benchmarks.Targets;

/// <summary>
/// Target 1: the whole update of N simulated connectors (read 2 ms, deploy 20 ms, version write instant) at parallelism
/// 32, against the ideal schedule, against a bare <see cref="Parallel.ForEachAsync{TSource}(IAsyncEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/>
/// making the same calls, and against the one-at-a-time loop the design rejected.
/// </summary>
internal static class MakespanTarget
{
    private const int Parallelism = 32;
    private const double IdealLimit = 1.10;
    private const double BaselineLimit = 1.05;
    private static readonly TimeSpan Read = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan Deploy = TimeSpan.FromMilliseconds(20);

    public static async Task<TargetResult> RunAsync(bool quick)
    {
        var connectors = quick ? 400 : 2000;
        var sequentialSample = quick ? 20 : 100;
        var rounds = quick ? 2 : 3;
        var waves = (connectors + Parallelism - 1) / Parallelism;
        var ideal = (waves * (Read + Deploy)) + (waves * Read);

        using var delay = new PreciseDelay();

        // Warm-up: JIT and thread pool for both contenders.
        await RunEngineAsync(delay, 4 * Parallelism);
        await RunBaselineAsync(delay, 4 * Parallelism);

        var engine = new List<TimeSpan>();
        var baseline = new List<TimeSpan>();
        for (var round = 0; round < rounds; round++)
        {
            engine.Add(await RunEngineAsync(delay, connectors));
            baseline.Add(await RunBaselineAsync(delay, connectors));
        }

        var sequential = await RunSequentialAsync(delay, sequentialSample);
        var sequentialExtrapolated = sequential * ((double)connectors / sequentialSample);

        var best = engine.Min();
        var bestBaseline = baseline.Min();
        var vsIdeal = best / ideal;
        var vsBaseline = best / bestBaseline;
        var pass = vsIdeal <= IdealLimit && vsBaseline <= BaselineLimit;
        var result = new TargetResult(
            1,
            "Makespan",
            $"{Fmt.X(vsIdeal)} ideal, {Fmt.X(vsBaseline)} baseline",
            $"{IdealLimit:0.00}x ideal, {BaselineLimit:0.00}x baseline",
            TargetResult.Verdict(pass),
            $"{connectors} connectors, P={Parallelism}: engine {Fmt.Ms(best)}, ideal {Fmt.Ms(ideal)}, Parallel.ForEachAsync {Fmt.Ms(bestBaseline)}; "
            + $"{Fmt.N(sequentialExtrapolated / best, "0.0")}x faster than one at a time ({Fmt.Ms(sequentialExtrapolated)}, extrapolated linearly from {sequentialSample} connectors)");
        result.Details.Add($"ideal = ceil({connectors}/{Parallelism}) x (read {Fmt.Ms(Read)} + deploy {Fmt.Ms(Deploy)}) + ceil({connectors}/{Parallelism}) x read = {Fmt.Ms(ideal)}");
        result.Details.Add($"engine UpdateAsync runs: {string.Join(", ", engine.Select(Fmt.Ms))} (best taken)");
        result.Details.Add($"bare Parallel.ForEachAsync runs: {string.Join(", ", baseline.Select(Fmt.Ms))} (best taken)");
        result.Details.Add($"one-at-a-time loop: {sequentialSample} connectors in {Fmt.Ms(sequential)}, extrapolated linearly to {connectors}: {Fmt.Ms(sequentialExtrapolated)}");
        result.Details.Add($"simulated latency from a precise timer thread: {delay.Count} delays, mean lateness {Fmt.Us(delay.MeanLateness.TotalMicroseconds)}");
        return result;
    }

    private static SimulatedFleet Fleet(PreciseDelay delay, int connectors) =>
        new(connectors, SimulatedDeployment.OldBuild, SimulatedDeployment.NewBuild, delay, Read, Deploy);

    private static async Task<TimeSpan> RunEngineAsync(PreciseDelay delay, int connectors)
    {
        await using var deployment = new SimulatedDeployment(Fleet(delay, connectors), Parallelism);
        Measure.FullCollect();
        var clock = Stopwatch.StartNew();
        await deployment.UpdateAsync();
        return clock.Elapsed;
    }

    private static async Task<TimeSpan> RunBaselineAsync(PreciseDelay delay, int connectors)
    {
        var fleet = Fleet(delay, connectors);
        var package = BareRollout.Package();
        Measure.FullCollect();
        var clock = Stopwatch.StartNew();
        var mismatched = await BareRollout.RunAsync(fleet, package, Parallelism);
        var elapsed = clock.Elapsed;
        BareRollout.Check(fleet, mismatched);
        return elapsed;
    }

    private static async Task<TimeSpan> RunSequentialAsync(PreciseDelay delay, int connectors)
    {
        var fleet = Fleet(delay, connectors);
        var package = BareRollout.Package();
        Measure.FullCollect();
        var clock = Stopwatch.StartNew();
        var mismatched = await BareRollout.RunSequentialAsync(fleet, package);
        var elapsed = clock.Elapsed;
        BareRollout.Check(fleet, mismatched);
        return elapsed;
    }
}
