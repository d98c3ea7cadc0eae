using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What a rollout does when a wave goes over its failure threshold.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HaltAction>))]
public enum HaltAction
{
    /// <summary>Invalidate the target and bring back, quickly (no waves, no bake), exactly the connectors that received it.</summary>
    Rollback,

    /// <summary>Leave the fleet as it is for an operator (status <see cref="RolloutStatus.Halted"/>).</summary>
    Pause,
}
