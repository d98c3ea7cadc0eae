using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace IoMT.Deployment.Benchmarks.Micro;

/// <summary>
/// Runs the BenchmarkDotNet suite in process (no per-benchmark project build, which would compete with everyone's builds
/// on the 2-core machine) with a short job: 1 launch, 3 warm-up and 5 measured iterations (--quick: 1 and 2).
/// </summary>
internal static class MicroBenchmarks
{
    public static (bool Ok, IReadOnlyList<string> Reports) Run(string[] args, bool quick)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(quick ? 1 : 3)
            .WithIterationCount(quick ? 2 : 5)
            .WithId(quick ? "quick" : "short");
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(Path.Combine(RepositoryRoot(), "benchmarks", "BenchmarkDotNet.Artifacts"))
            .WithOptions(ConfigOptions.DisableLogFile);
        if (!args.Contains("--filter"))
        {
            args = [.. args, "--filter", "*"];
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(MicroBenchmarks).Assembly).Run(args, config).ToList();
        var reports = new List<string>();
        var ok = summaries.Count > 0;
        foreach (var summary in summaries)
        {
            ok &= !summary.HasCriticalValidationErrors && summary.Reports.All(r => r.Success);
            var log = new AccumulationLogger();
            MarkdownExporter.GitHub.ExportToLog(summary, log);
            reports.Add(log.GetLog().Replace("&#39;", string.Empty, StringComparison.Ordinal));
        }

        Console.WriteLine(ok ? "micro: all benchmarks ran" : "micro: some benchmarks failed to run");
        return (ok, reports);
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IoMT.Deployment.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
