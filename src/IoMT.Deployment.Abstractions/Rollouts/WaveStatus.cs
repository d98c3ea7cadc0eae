using System.Text.Json.Serialization;

namespace IoMT.Deployment;

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
