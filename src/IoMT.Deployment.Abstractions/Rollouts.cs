using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>Where a progressive rollout stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RolloutStatus>))]
public enum RolloutStatus
{
    /// <summary>A wave is being deployed (or is next to be deployed at the next tick).</summary>
    Running,

    /// <summary>The current wave is verified and baking until <see cref="RolloutRecord.BakeUntil"/>; its health gate is judged after.</summary>
    Baking,

    /// <summary>The next wave requires an operator's approval (<c>rollout promote</c>).</summary>
    AwaitingApproval,

    /// <summary>Paused by an operator, or because the health gate had no data; waits for <c>resume</c> or <c>promote</c>.</summary>
    Paused,

    /// <summary>A wave went over its failure threshold and the fleet was left as it is (<see cref="HaltAction.Pause"/>). Never retried by itself.</summary>
    Halted,

    /// <summary>The rollout halted (or was aborted) and the connectors that received the target were brought back; the target is invalidated.</summary>
    RolledBack,

    /// <summary>Every wave was deployed, verified and passed its gate; the current build is the target.</summary>
    Completed,

    /// <summary>A newer build was delivered while this rollout ran; the newer build's rollout replaced it.</summary>
    Superseded,
}

/// <summary>Where one wave of a rollout stands.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WaveStatus>))]
public enum WaveStatus
{
    /// <summary>Not started.</summary>
    Pending,

    /// <summary>Being deployed; a tick that finds it so (after a crash) deploys it again, skipping connectors already on the target.</summary>
    Deploying,

    /// <summary>Deployed and verified; baking.</summary>
    Baking,

    /// <summary>Its gate passed.</summary>
    Passed,

    /// <summary>It went over its failure threshold.</summary>
    Failed,

    /// <summary>Its connectors that received the target were brought back to the previous build.</summary>
    RolledBack,
}

/// <summary>What a rollout does when a wave goes over its failure threshold.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HaltAction>))]
public enum HaltAction
{
    /// <summary>Invalidate the target and bring back, quickly (no waves, no bake), exactly the connectors that received it.</summary>
    Rollback,

    /// <summary>Leave the fleet as it is for an operator (status <see cref="RolloutStatus.Halted"/>).</summary>
    Pause,
}

/// <summary>An operator's command to a running rollout.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperatorAction>))]
public enum OperatorAction
{
    /// <summary>Stop starting deployments; wait for <see cref="Resume"/>.</summary>
    Pause,

    /// <summary>Go on from where the rollout was paused (a paused health gate is judged again).</summary>
    Resume,

    /// <summary>End the current bake or approval now (a gate paused for lack of data passes).</summary>
    Promote,

    /// <summary>Deploy every remaining wave now, without bakes or approvals; each wave is still verified and held to its failure threshold.</summary>
    PromoteFull,

    /// <summary>Roll back what the rollout deployed: invalidate the target and restore the connectors that received it.</summary>
    Abort,
}

/// <summary>An operator's command, as recorded on the rollout.</summary>
/// <param name="Action">The command.</param>
/// <param name="Actor">Who gave it (the signed-in identity).</param>
/// <param name="Reason">Why, when given.</param>
/// <param name="At">When.</param>
public sealed record OperatorCommand(OperatorAction Action, string Actor, string? Reason, DateTimeOffset At);

/// <summary>A connector that failed in a rollout, as recorded on it (the list is capped).</summary>
/// <param name="Connector">The connector's id.</param>
/// <param name="Wave">The wave's name.</param>
/// <param name="Reason">Why (deployment failure, verification mismatch, unhealthy), shortened.</param>
public sealed record FailedConnector(string Connector, string Wave, string Reason);

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

/// <summary>
/// A progressive rollout's persisted state, kept in the version state under its ETag. Its size grows with the number of
/// waves and the capped lists, never with the number of connectors; per-connector truth stays <c>PROJECT_VERSION</c>.
/// </summary>
public sealed record RolloutRecord
{
    /// <summary>The most failed connectors recorded.</summary>
    public const int MaxFailedConnectors = 50;

    /// <summary>The most operator commands recorded.</summary>
    public const int MaxCommands = 50;

    /// <summary>Gets the rollout's id.</summary>
    public required string Id { get; init; }

    /// <summary>Gets the build being rolled out.</summary>
    public required BuildNumber Target { get; init; }

    /// <summary>Gets the current build when the rollout started: what a rollback restores.</summary>
    public BuildNumber? From { get; init; }

    /// <summary>Gets the fingerprint of the wave plan the rollout started with (equal to the dry run's).</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Gets the status.</summary>
    public RolloutStatus Status { get; init; }

    /// <summary>Gets why the rollout has its status (halt reason, pause reason), when there is one.</summary>
    public string? StatusReason { get; init; }

    /// <summary>Gets the status a paused rollout resumes to.</summary>
    public RolloutStatus? PausedFrom { get; init; }

    /// <summary>Gets the index of the current wave.</summary>
    public int Wave { get; init; }

    /// <summary>Gets when the current wave's bake ends.</summary>
    public DateTimeOffset? BakeUntil { get; init; }

    /// <summary>Gets a value indicating whether an operator asked to end the current bake or approval now.</summary>
    public bool PromoteRequested { get; init; }

    /// <summary>Gets a value indicating whether an operator asked for every remaining wave now.</summary>
    public bool PromoteFull { get; init; }

    /// <summary>Gets a value indicating whether an operator asked to abort (roll back what was deployed) at the next tick.</summary>
    public bool AbortRequested { get; init; }

    /// <summary>Gets when the rollout started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Gets when the rollout record last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Gets the waves.</summary>
    public IReadOnlyList<WaveRecord> Waves { get; init; } = [];

    /// <summary>Gets failed connectors (at most <see cref="MaxFailedConnectors"/>, the first ones).</summary>
    public IReadOnlyList<FailedConnector> FailedConnectors { get; init; } = [];

    /// <summary>Gets the operator commands (the latest <see cref="MaxCommands"/>).</summary>
    public IReadOnlyList<OperatorCommand> Commands { get; init; } = [];

    /// <summary>Gets a value indicating whether the rollout still needs ticks (running, baking, awaiting approval or paused).</summary>
    [JsonIgnore]
    public bool IsActive => Status is RolloutStatus.Running or RolloutStatus.Baking or RolloutStatus.AwaitingApproval or RolloutStatus.Paused;

    /// <summary>Returns this record with a command appended (the oldest dropped beyond <see cref="MaxCommands"/>).</summary>
    /// <param name="command">The command.</param>
    /// <returns>The new record.</returns>
    public RolloutRecord WithCommand(OperatorCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var commands = Commands.Count >= MaxCommands ? Commands.Skip(Commands.Count - MaxCommands + 1) : Commands;
        return this with { Commands = [.. commands, command] };
    }

    /// <summary>Returns this record with one wave replaced.</summary>
    /// <param name="index">The wave's index.</param>
    /// <param name="wave">The new wave record.</param>
    /// <returns>The new record.</returns>
    public RolloutRecord WithWave(int index, WaveRecord wave)
    {
        ArgumentNullException.ThrowIfNull(wave);
        var waves = Waves.ToArray();
        waves[index] = wave;
        return this with { Waves = waves };
    }
}

/// <summary>A connector held on one build (or excluded from rollouts), with who did it and why.</summary>
/// <param name="Connector">The connector's id.</param>
/// <param name="Build">The build it is held on, or <see langword="null"/> when it is excluded from rollouts.</param>
/// <param name="Reason">Why.</param>
/// <param name="Actor">Who.</param>
/// <param name="At">When.</param>
public sealed record ConnectorPin(string Connector, BuildNumber? Build, string Reason, string Actor, DateTimeOffset At)
{
    /// <summary>Gets a value indicating whether the connector is excluded from rollouts rather than held on a build.</summary>
    [JsonIgnore]
    public bool Excluded => Build is null;
}
