using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>What a health signal says of a connector over a time window.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HealthStatus>))]
public enum HealthStatus
{
    /// <summary>The connector works.</summary>
    Healthy,

    /// <summary>The connector does not work; see the reason.</summary>
    Unhealthy,

    /// <summary>The signal has no data for the window. Never read as healthy or unhealthy: a gate that gets it pauses the rollout.</summary>
    NoData,
}
