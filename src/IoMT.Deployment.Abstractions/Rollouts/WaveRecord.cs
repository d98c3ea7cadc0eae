using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>One wave of a rollout, as recorded: counts only, never a list of connectors, so the record stays small.</summary>
public sealed record WaveRecord
{
    /// <summary>Gets the wave's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the wave's status.</summary>
    public WaveStatus Status { get; init; }

    /// <summary>Gets how many connectors the wave selected when it was deployed.</summary>
    public int Connectors { get; init; }

    /// <summary>Gets how many of them are verified on the target (deployed now or before).</summary>
    public int Updated { get; init; }

    /// <summary>Gets how many failed (deployment or verification) and count against the threshold.</summary>
    public int Failed { get; init; }

    /// <summary>Gets how many failed for reasons not attributable to the build (throttling, transient errors); retried, not counted.</summary>
    public int Transient { get; init; }

    /// <summary>Gets how many the health gate found unhealthy.</summary>
    public int Unhealthy { get; init; }

    /// <summary>Gets how many had no health data.</summary>
    public int NoData { get; init; }

    /// <summary>Gets how many were deleted meanwhile.</summary>
    public int Deleted { get; init; }

    /// <summary>Gets how many times the wave was deployed.</summary>
    public int Attempts { get; init; }

    /// <summary>Gets when the wave's deployment started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Gets when the wave was verified.</summary>
    public DateTimeOffset? VerifiedAt { get; init; }

    /// <summary>Gets the gate's verdict, with its reasons and counts.</summary>
    public string? Verdict { get; init; }
}
