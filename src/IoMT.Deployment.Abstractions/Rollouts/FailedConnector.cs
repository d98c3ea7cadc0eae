using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>A connector that failed in a rollout, as recorded on it (the list is capped).</summary>
/// <param name="Connector">The connector's id.</param>
/// <param name="Wave">The wave's name.</param>
/// <param name="Reason">Why (deployment failure, verification mismatch, unhealthy), shortened.</param>
public sealed record FailedConnector(string Connector, string Wave, string Reason);
