namespace IoMT.Deployment.Cli.Output;

/// <summary>One wave of a progressive rollout: its counts and status.</summary>
internal sealed record WaveResult(
    string Name,
    int Connectors,
    int Updated,
    int Failed,
    int Unhealthy,
    WaveStatus Status,
    int Transient,
    int NoData,
    int Deleted,
    int Attempts,
    DateTimeOffset? StartedAt,
    DateTimeOffset? VerifiedAt,
    string? Verdict)
{
    public static WaveResult Of(WaveRecord wave) => new(
        wave.Name,
        wave.Connectors,
        wave.Updated,
        wave.Failed,
        wave.Unhealthy,
        wave.Status,
        wave.Transient,
        wave.NoData,
        wave.Deleted,
        wave.Attempts,
        wave.StartedAt,
        wave.VerifiedAt,
        wave.Verdict);
}
