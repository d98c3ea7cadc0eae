using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What started a rollout.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RolloutKind>))]
public enum RolloutKind
{
    /// <summary>A newer valid build was found and rolled out.</summary>
    Update,

    /// <summary>No newer build: connectors not on the current build were brought to it.</summary>
    Straggler,

    /// <summary>A bad build was invalidated and an older one rolled out.</summary>
    Rollback,

    /// <summary>The current build was put on a new connector.</summary>
    Provision,
}
