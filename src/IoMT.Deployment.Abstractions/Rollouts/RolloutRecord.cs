using System.Text.Json.Serialization;

namespace IoMT.Deployment;

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
