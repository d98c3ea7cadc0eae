using System.Text.Json.Serialization;

namespace IoMT.Deployment;

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
