namespace IoMT.Deployment.Cli.Output;

/// <summary>One wave of a dry-run plan; durations in milliseconds.</summary>
internal sealed record PlannedWaveResult(string Name, int Count, IReadOnlyList<string> Connectors, long BakeTimeMs, int? MaxFailed, double? MaxFailedPercent, bool RequireApproval, bool RequireHealth)
{
    public static PlannedWaveResult Of(PlannedWave wave) => new(
        wave.Name,
        wave.Connectors.Count,
        wave.Connectors,
        (long)wave.BakeTime.TotalMilliseconds,
        wave.MaxFailed,
        wave.MaxFailedPercent,
        wave.RequireApproval,
        wave.RequireHealth);
}
