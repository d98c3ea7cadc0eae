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
