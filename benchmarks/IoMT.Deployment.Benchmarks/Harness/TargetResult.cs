using System.Globalization;

namespace IoMT.Deployment.Benchmarks.Harness;

internal enum TargetStatus
{
    Pass,
    Fail,
    Skipped,
}

/// <summary>One target's verdict: what was measured against which limit, with the figures behind it.</summary>
internal sealed record TargetResult(int Number, string Name, string Measured, string Limit, TargetStatus Status, string Notes)
{
    public List<string> Details { get; } = [];

    public string Line => Status == TargetStatus.Skipped
        ? $"target-{Number}: SKIPPED ({Notes})"
        : $"target-{Number}: measured {Measured}, limit {Limit}, {(Status == TargetStatus.Pass ? "PASS" : "FAIL")}";

    public static TargetResult Skipped(int number, string name, string limit, string reason) =>
        new(number, name, "-", limit, TargetStatus.Skipped, reason);

    public static TargetStatus Verdict(bool pass) => pass ? TargetStatus.Pass : TargetStatus.Fail;
}

/// <summary>Formatting for the harness output, culture-free.</summary>
internal static class Fmt
{
    public static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    public static string Us(double microseconds) => microseconds.ToString("0.00", CultureInfo.InvariantCulture) + " us";

    public static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";

    public static string X(double ratio) => ratio.ToString("0.000", CultureInfo.InvariantCulture) + "x";

    public static string N(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Cost(RunCost c, int connectors) =>
        $"wall {Ms(c.Elapsed)}, CPU {Ms(c.Cpu)} ({Us(c.Cpu.TotalMicroseconds / connectors)}/connector, kernel {Ms(c.KernelCpu)}), allocated {Mb(c.AllocatedBytes)} ({N(c.AllocatedBytes / (double)connectors, "0")} B/connector), heap before {Mb(c.BaselineBytes)}, peak {Mb(c.PeakBytes)} (+{Mb(c.PeakGrowthBytes)}), GCs gen0 {c.Gen0} gen2 {c.Gen2}";
}
