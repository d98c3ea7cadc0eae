using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace IoMT.Deployment.Benchmarks.Micro;

/// <summary>Building and summarising the report of a 10,000- and a 100,000-connector rollout, as the engine and the CLI do.</summary>
[MemoryDiagnoser]
public class ReportBenchmarks
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };
    private ConnectorResult[] _results = [];
    private RolloutReport _report = null!;

    [Params(10_000, 100_000)]
    public int Connectors { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _results = [.. Enumerable.Range(0, Connectors).Select(i => new ConnectorResult
        {
            Connector = new ConnectorTarget($"connector-{i:D6}", $"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/connector-{i:D6}"),
            Outcome = (i % 50) switch { 0 => ConnectorOutcome.AlreadyCurrent, 1 => ConnectorOutcome.Deleted, _ => ConnectorOutcome.Updated },
            Duration = TimeSpan.FromMilliseconds(20 + (i % 7)),
            PreviousVersion = "20250101.1",
        })];
        _report = Build();
    }

    /// <summary>What the engine does after the rollout: a verified copy of every result, the report, its counts and totals.</summary>
    [Benchmark(Description = "Build report + counts")]
    public int BuildReport()
    {
        var report = Build();
        return report.Count(ConnectorOutcome.Updated) + report.Count(ConnectorOutcome.AlreadyCurrent) + report.Count(ConnectorOutcome.Deleted)
            + report.Count(ConnectorOutcome.Failed) + report.Mismatched + report.Totals().Count;
    }

    /// <summary>The summaries the engine takes of a finished report (RolloutEngine.RollOutAsync): 7 passes over the results.</summary>
    [Benchmark(Description = "Engine's summaries: All + Count x4 + Mismatched + Totals")]
    public int Summaries()
    {
        var report = _report;
        var succeeded = report.Connectors.All(r => r.Outcome != ConnectorOutcome.Failed && r.Verification != VerificationOutcome.Mismatch);
        return (succeeded ? 1 : 0) + report.Count(ConnectorOutcome.Updated) + report.Count(ConnectorOutcome.AlreadyCurrent) + report.Count(ConnectorOutcome.Deleted)
            + report.Count(ConnectorOutcome.Failed) + report.Mismatched + report.Totals().Count;
    }

    /// <summary>The same figures from one pass over the results: what the engine could do instead.</summary>
    [Benchmark(Description = "Same summaries in one pass")]
    public int SummariesOnePass()
    {
        Span<int> counts = stackalloc int[4];
        var mismatched = 0;
        foreach (var r in _report.Connectors)
        {
            counts[(int)r.Outcome]++;
            if (r.Verification == VerificationOutcome.Mismatch)
            {
                mismatched++;
            }
        }

        var succeeded = counts[(int)ConnectorOutcome.Failed] == 0 && mismatched == 0;
        return (succeeded ? 1 : 0) + counts[0] + counts[1] + counts[2] + counts[3] + mismatched;
    }

    [Benchmark(Description = "Serialize report to JSON")]
    public int SerializeJson() => JsonSerializer.SerializeToUtf8Bytes(_report, Json).Length;

    private RolloutReport Build()
    {
        var verified = new ConnectorResult[_results.Length];
        for (var i = 0; i < _results.Length; i++)
        {
            var r = _results[i];
            verified[i] = r.Outcome == ConnectorOutcome.Deleted
                ? r with { Verification = VerificationOutcome.Deleted }
                : r with { Verification = VerificationOutcome.Verified, VerifiedVersion = "20250102.1" };
        }

        return new RolloutReport
        {
            RolloutId = "0123456789ab",
            Kind = RolloutKind.Update,
            From = BuildNumber.Parse("20250101.1"),
            Target = BuildNumber.Parse("20250102.1"),
            StartedAt = DateTimeOffset.UnixEpoch,
            CompletedAt = DateTimeOffset.UnixEpoch.AddMinutes(5),
            Connectors = verified,
            Succeeded = true,
        };
    }
}
