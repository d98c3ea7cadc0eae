namespace IoMT.Deployment;

/// <summary>One wave of a <see cref="RolloutPlan"/>.</summary>
public sealed record PlannedWave
{
    /// <summary>Gets the wave's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the ids of the connectors it selects, sorted.</summary>
    public required IReadOnlyList<string> Connectors { get; init; }

    /// <summary>Gets how long it bakes after it is verified.</summary>
    public TimeSpan BakeTime { get; init; }

    /// <summary>Gets the most failed connectors it tolerates, when set.</summary>
    public int? MaxFailed { get; init; }

    /// <summary>Gets the largest share (percent) of failed connectors it tolerates, when set.</summary>
    public double? MaxFailedPercent { get; init; }

    /// <summary>Gets a value indicating whether an operator must promote the rollout before this wave.</summary>
    public bool RequireApproval { get; init; }

    /// <summary>Gets a value indicating whether its health gate asks the health signals.</summary>
    public bool RequireHealth { get; init; }
}
