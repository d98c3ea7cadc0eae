using IoMT.Deployment.Benchmarks.Fakes;
using IoMT.Deployment.Benchmarks.Harness;

namespace IoMT.Deployment.Benchmarks.Targets;

/// <summary>
/// Targets 2 and 3: the engine's own cost. Zero-latency fakes (every call completes synchronously), logging enabled at
/// Information into a sink that writes nothing, parallelism 32; an update of every connector. CPU is the process's
/// (<see cref="Environment.CpuUsage"/>, so the GC and thread pool count too); memory is the
/// peak of <see cref="GC.GetTotalMemory"/>(false) sampled every millisecond on a background thread (see
/// <see cref="MemorySampler"/>).
/// </summary>
internal static class OverheadTargets
{
    private const int Parallelism = 32;
    private const double CpuLimitMicroseconds = 20;
    private const long MemoryLimitBytes = 150L * 1024 * 1024;
    private const double ScalingLimit = 11;

    public static async Task<IReadOnlyList<TargetResult>> RunAsync(bool quick)
    {
        var small = quick ? 2_000 : 10_000;
        var large = quick ? 20_000 : 100_000;
        var rounds = quick ? 3 : 15;

        // Warm-up: every path run often enough for tiered compilation to promote it, then time for the background JIT.
        await RunAsync(large);
        await Task.Delay(500);
        await RunAsync(small);
        await RunAsync(large);
        await Task.Delay(500);

        var smallRuns = new List<Run>();
        var largeRuns = new List<Run>();
        var pairs = new List<(TimeSpan Small, TimeSpan Large)>();
        for (var round = 0; round < rounds; round++)
        {
            smallRuns.Add(await RunAsync(small));
            largeRuns.Add(await RunAsync(large));

            // Time: ten small updates back to back against one large update, timed the same way right after each other
            // (in alternating order), so both span the same wall time and meet the same load on the shared machine.
            TimeSpan smallBlock, largeBlock;
            if (round % 2 == 0)
            {
                smallBlock = await RunBlockAsync(small, large / small);
                largeBlock = await RunBlockAsync(large, 1);
            }
            else
            {
                largeBlock = await RunBlockAsync(large, 1);
                smallBlock = await RunBlockAsync(small, large / small);
            }

            pairs.Add((smallBlock / (large / small), largeBlock));
        }

        var bare = await RunBareLoopAsync(large);
        var scaling = Scaling(small, large, smallRuns, pairs, largeRuns);
        foreach (var size in new[] { small, large })
        {
            var phases = new List<PhaseClock>();
            for (var i = 0; i < 5; i++)
            {
                phases.Add(await PhasesAsync(size));
            }

            scaling.Details.Add($"where the time goes at {size} (extra runs with a timestamp per fake call): {PhaseClock.DescribeFastest(phases, size)}");
        }

        return [Overhead(large, largeRuns, bare), scaling];
    }

    private static TargetResult Overhead(int connectors, List<Run> runs, RunCost bare)
    {
        var cpu = Measure.Median(runs.Select(r => r.Cost.Cpu));
        var cpuPerConnector = cpu.TotalMicroseconds / connectors;
        var peak = runs.Max(r => r.Cost.PeakBytes);
        var pass = cpuPerConnector <= CpuLimitMicroseconds && peak < MemoryLimitBytes;
        var result = new TargetResult(
            2,
            "Engine overhead",
            $"{Fmt.Us(cpuPerConnector)} CPU/connector, peak {Fmt.Mb(peak)}",
            $"{Fmt.Us(CpuLimitMicroseconds)}, {Fmt.Mb(MemoryLimitBytes)}",
            TargetResult.Verdict(pass),
            $"{connectors} connectors, zero-latency fakes, Information logging to a no-op sink, P={Parallelism}; median CPU of {runs.Count} runs, highest peak; "
            + $"bare Parallel.ForEachAsync over the same fakes: {Fmt.Us(bare.Cpu.TotalMicroseconds / connectors)}/connector");
        foreach (var run in runs)
        {
            result.Details.Add($"engine: {Fmt.Cost(run.Cost, connectors)}; retained after the run (report alive) +{Fmt.Mb(run.RetainedBytes)}; {run.LogMessages} log messages");
        }

        result.Details.Add($"bare loop: {Fmt.Cost(bare, connectors)}");
        result.Details.Add("CPU: Environment.CpuUsage.TotalTime (process user+kernel) delta around UpdateAsync; peak: highest GC.GetTotalMemory(false) sampled every 1 ms by a background thread (garbage not yet collected included), whole process heap (fixture included)");
        return result;
    }

    private static TargetResult Scaling(int small, int large, List<Run> smallRuns, List<(TimeSpan Small, TimeSpan Large)> pairs, List<Run> largeRuns)
    {
        // The time ratio is the median of the paired ratios: a lone 10 ms update fits between two preemptions of the
        // shared machine and a 100 ms one never does, so comparing lone runs (or the fastest of each) overstates growth.
        var ratios = pairs.Select(p => p.Large / p.Small).Order().ToList();
        var timeRatio = ratios[ratios.Count / 2];
        var timeSmall = Measure.Median(pairs.Select(p => p.Small));
        var timeLarge = Measure.Median(pairs.Select(p => p.Large));
        var timeSmallSingle = smallRuns.Min(r => r.Cost.Elapsed);
        var timeLargeSingle = largeRuns.Min(r => r.Cost.Elapsed);
        var cpuRatio = Measure.Median(largeRuns.Select(r => r.Cost.Cpu)) / Measure.Median(smallRuns.Select(r => r.Cost.Cpu));
        var peakSmall = smallRuns.Max(r => r.Cost.PeakGrowthBytes);
        var peakLarge = largeRuns.Max(r => r.Cost.PeakGrowthBytes);
        var peakRatio = (double)peakLarge / peakSmall;
        var retainedRatio = largeRuns.Average(r => r.RetainedBytes) / smallRuns.Average(r => r.RetainedBytes);
        var allocRatio = largeRuns.Average(r => r.Cost.AllocatedBytes) / smallRuns.Average(r => r.Cost.AllocatedBytes);
        var pass = timeRatio <= ScalingLimit && peakRatio <= ScalingLimit;
        var result = new TargetResult(
            3,
            "Scaling",
            $"time {Fmt.X(timeRatio)}, peak memory {Fmt.X(peakRatio)}",
            $"{ScalingLimit:0}x, {ScalingLimit:0}x",
            TargetResult.Verdict(pass),
            $"{small} -> {large} connectors (10x): time = median of {pairs.Count} paired ratios ({Fmt.X(ratios[0])} to {Fmt.X(ratios[^1])}) of one {large} update to {large / small} back-to-back {small} updates, medians {Fmt.Ms(timeSmall)} -> {Fmt.Ms(timeLarge)} per update "
            + $"(fastest lone updates {Fmt.Ms(timeSmallSingle)} -> {Fmt.Ms(timeLargeSingle)}, {Fmt.X(timeLargeSingle / timeSmallSingle)}; median CPU {Fmt.X(cpuRatio)}); peak heap growth over the pre-run heap {Fmt.Mb(peakSmall)} -> {Fmt.Mb(peakLarge)}; "
            + $"retained {Fmt.X(retainedRatio)}, allocated {Fmt.X(allocRatio)}");
        foreach (var run in smallRuns)
        {
            result.Details.Add($"{small}: {Fmt.Cost(run.Cost, small)}; retained +{Fmt.Mb(run.RetainedBytes)}");
        }

        result.Details.Add($"pairs (per update, {large / small} x {small} back to back vs 1 x {large}): {string.Join(", ", pairs.Select(p => $"{Fmt.Ms(p.Small)} vs {Fmt.Ms(p.Large)}"))}");
        return result;
    }

    private static async Task<Run> RunAsync(int connectors)
    {
        var fleet = new SimulatedFleet(connectors, SimulatedDeployment.OldBuild, SimulatedDeployment.NewBuild);
        await using var deployment = new SimulatedDeployment(fleet, Parallelism);
        var (cost, report) = await Measure.RunAsync(deployment.UpdateAsync);
        Measure.FullCollect();
        var retained = GC.GetTotalMemory(forceFullCollection: false) - cost.BaselineBytes;
        GC.KeepAlive(report);
        report = null!; // the finished state machine would otherwise keep the report alive into the next run's baseline
        return new Run(cost, retained, deployment.Sink.Messages);
    }

    /// <summary>Times <paramref name="count"/> updates of fresh fleets, one after the other (fleets and engines built beforehand).</summary>
    private static async Task<TimeSpan> RunBlockAsync(int connectors, int count)
    {
        var deployments = Enumerable.Range(0, count)
            .Select(_ => new SimulatedDeployment(new SimulatedFleet(connectors, SimulatedDeployment.OldBuild, SimulatedDeployment.NewBuild), Parallelism))
            .ToList();
        try
        {
            var (cost, _) = await Measure.RunAsync(
                async () =>
                {
                    foreach (var deployment in deployments)
                    {
                        await deployment.UpdateAsync();
                    }

                    return true;
                },
                sampleMemory: false);
            return cost.Elapsed;
        }
        finally
        {
            foreach (var deployment in deployments)
            {
                await deployment.DisposeAsync();
            }
        }
    }

    private static async Task<PhaseClock> PhasesAsync(int connectors)
    {
        var fleet = new SimulatedFleet(connectors, SimulatedDeployment.OldBuild, SimulatedDeployment.NewBuild) { Phases = new PhaseClock() };
        await using var deployment = new SimulatedDeployment(fleet, Parallelism);
        Measure.FullCollect();
        fleet.Phases.Start();
        await deployment.UpdateAsync();
        fleet.Phases.Stop();
        return fleet.Phases;
    }

    /// <summary>The same calls with nothing around them, for scale: what the fakes and the thread pool cost alone.</summary>
    private static async Task<RunCost> RunBareLoopAsync(int connectors)
    {
        var fleet = new SimulatedFleet(connectors, SimulatedDeployment.OldBuild, SimulatedDeployment.NewBuild);
        var package = BareRollout.Package();
        var (cost, mismatched) = await Measure.RunAsync(() => BareRollout.RunAsync(fleet, package, Parallelism));
        BareRollout.Check(fleet, mismatched);
        return cost;
    }

    private sealed record Run(RunCost Cost, long RetainedBytes, long LogMessages);
}
