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
        var rounds = quick ? 3 : 5;

        // Warm-up: every path run often enough for tiered compilation to promote it, then time for the background JIT.
        await RunAsync(large);
        await Task.Delay(500);
        await RunAsync(small);
        await RunAsync(large);
        await Task.Delay(500);

        var smallRuns = new List<Run>();
        var largeRuns = new List<Run>();
        for (var round = 0; round < rounds; round++)
        {
            smallRuns.Add(await RunAsync(small));
            largeRuns.Add(await RunAsync(large));
        }

        var bare = await RunBareLoopAsync(large);
        return [Overhead(large, largeRuns, bare), Scaling(small, large, smallRuns, largeRuns)];
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

    private static TargetResult Scaling(int small, int large, List<Run> smallRuns, List<Run> largeRuns)
    {
        // Fastest run of each size: on a shared machine, noise only ever adds time.
        var timeSmall = smallRuns.Min(r => r.Cost.Elapsed);
        var timeLarge = largeRuns.Min(r => r.Cost.Elapsed);
        var cpuRatio = Measure.Median(largeRuns.Select(r => r.Cost.Cpu)) / Measure.Median(smallRuns.Select(r => r.Cost.Cpu));
        var peakSmall = smallRuns.Max(r => r.Cost.PeakGrowthBytes);
        var peakLarge = largeRuns.Max(r => r.Cost.PeakGrowthBytes);
        var timeRatio = timeLarge / timeSmall;
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
            $"{small} -> {large} connectors (10x): fastest wall {Fmt.Ms(timeSmall)} -> {Fmt.Ms(timeLarge)} (median CPU {Fmt.X(cpuRatio)}); peak heap growth over the pre-run heap {Fmt.Mb(peakSmall)} -> {Fmt.Mb(peakLarge)}; "
            + $"retained {Fmt.X(retainedRatio)}, allocated {Fmt.X(allocRatio)}");
        foreach (var run in smallRuns)
        {
            result.Details.Add($"{small}: {Fmt.Cost(run.Cost, small)}; retained +{Fmt.Mb(run.RetainedBytes)}");
        }

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
