using System.Text.Json.Serialization;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// The shape of a connector document as <see cref="CosmosConnectorInventory"/> reads it (property names are camelCase
/// JSON). Documents of another shape can be projected into it by <see cref="CosmosConnectorInventoryOptions.Query"/>.
/// </summary>
/// <remarks>
/// <code language="json">
/// {
///   "id": "contoso-iomt-01",
///   "resourceId": "/subscriptions/0000…/resourceGroups/rg-contoso/providers/Microsoft.Web/sites/contoso-iomt-01",
///   "state": "Active",
///   "canary": true,
///   "tags": { "region": "westus2", "tier": "standard" }
/// }
/// </code>
/// Instead of <c>resourceId</c>, a document may carry <c>subscriptionId</c>, <c>resourceGroup</c> and
/// <c>functionAppName</c>, from which the resource id is built. A document that has neither is listed without a resource
/// id. A document that cannot be read as this shape (no <c>id</c>, a tag that is not a string, <c>canary</c> that is not
/// a boolean, only part of the subscription/resource group/name triple) is skipped with a warning, never a crash.
/// </remarks>
public sealed record CosmosConnectorDocument
{
    /// <summary>Gets the connector's id, unique in the inventory (the Cosmos DB document id).</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>Gets the Function app's Azure resource id (<c>/subscriptions/…/providers/Microsoft.Web/sites/{name}</c>).</summary>
    [JsonPropertyName("resourceId")]
    public string? ResourceId { get; init; }

    /// <summary>Gets the Function app's subscription id, when <see cref="ResourceId"/> is not given.</summary>
    [JsonPropertyName("subscriptionId")]
    public string? SubscriptionId { get; init; }

    /// <summary>Gets the Function app's resource group, when <see cref="ResourceId"/> is not given.</summary>
    [JsonPropertyName("resourceGroup")]
    public string? ResourceGroup { get; init; }

    /// <summary>Gets the Function app's name, when <see cref="ResourceId"/> is not given.</summary>
    [JsonPropertyName("functionAppName")]
    public string? FunctionAppName { get; init; }

    /// <summary>
    /// Gets the connector's lifecycle state (free text, for example <c>Active</c>). Connectors in one of
    /// <see cref="CosmosConnectorInventoryOptions.ExcludedStates"/> (<c>Deleting</c>, <c>Deleted</c> by default, any case) are left out.
    /// </summary>
    [JsonPropertyName("state")]
    public string? State { get; init; }

    /// <summary>Gets a value indicating whether the connector is in the canary ring; <see langword="false"/> when absent.</summary>
    [JsonPropertyName("canary")]
    public bool? Canary { get; init; }

    /// <summary>Gets free-form string tags (region, customer tier, …).</summary>
    [JsonPropertyName("tags")]
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Builds the Function app's resource id from <see cref="ResourceId"/> or the subscription, group and name.</summary>
    /// <returns>The resource id, or <see langword="null"/> when the document names none.</returns>
    /// <exception cref="FormatException">Only part of <see cref="SubscriptionId"/>, <see cref="ResourceGroup"/> and <see cref="FunctionAppName"/> is given.</exception>
    public string? GetFunctionAppResourceId()
    {
        if (!string.IsNullOrWhiteSpace(ResourceId))
        {
            return ResourceId;
        }

        var parts = new[] { SubscriptionId, ResourceGroup, FunctionAppName };
        var given = parts.Count(p => !string.IsNullOrWhiteSpace(p));
        return given switch
        {
            0 => null,
            3 => $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.Web/sites/{FunctionAppName}",
            _ => throw new FormatException("it names only part of subscriptionId, resourceGroup and functionAppName (all three, or resourceId, are needed)"),
        };
    }

    /// <summary>Converts the document into the connector the engine rolls out to.</summary>
    /// <returns>The connector.</returns>
    /// <exception cref="FormatException">The document does not describe a connector; the message says why.</exception>
    public ConnectorTarget ToConnectorTarget()
    {
        if (string.IsNullOrWhiteSpace(Id))
        {
            throw new FormatException("it has no id");
        }

        return new ConnectorTarget(Id, GetFunctionAppResourceId())
        {
            Canary = Canary ?? false,
            Tags = Tags,
        };
    }
}
