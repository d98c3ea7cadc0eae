using System.Text.Json.Serialization;

namespace IoMT.Deployment;

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
