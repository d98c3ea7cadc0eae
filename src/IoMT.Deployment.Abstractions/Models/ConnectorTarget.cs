using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>One IoMT connector: a customer's Function app that runs the connector code.</summary>
public sealed record ConnectorTarget
{
    /// <summary>Creates a connector target.</summary>
    /// <param name="id">The connector's id, unique in the inventory.</param>
    /// <param name="resourceId">The Function app's Azure resource id (<c>/subscriptions/…/resourceGroups/…/providers/Microsoft.Web/sites/{name}</c>), when it runs in Azure.</param>
    public ConnectorTarget(string id, string? resourceId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Id = id;
        ResourceId = resourceId;
    }

    /// <summary>Gets the connector's id, unique in the inventory.</summary>
    public string Id { get; }

    /// <summary>Gets the Function app's Azure resource id, when it runs in Azure.</summary>
    public string? ResourceId { get; init; }

    /// <summary>Gets a value indicating whether the connector is in the canary ring, for rollout policies that use one.</summary>
    public bool Canary { get; init; }

    /// <summary>Gets free-form tags from the inventory (region, customer tier, …).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Id;
}
