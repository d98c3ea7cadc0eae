using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;

namespace IoMT.Deployment.Cosmos;

/// <summary>Options of <see cref="CosmosConnectorInventory"/>: where the connector documents live and how they are read.</summary>
/// <remarks>
/// The documents are read through <see cref="Query"/>, which returns (or projects into) the shape described on
/// <see cref="CosmosConnectorDocument"/>. Connectors whose <c>state</c> is one of <see cref="ExcludedStates"/> are left out.
/// </remarks>
[OptionsSection(SectionName)]
public sealed class CosmosConnectorInventoryOptions : CosmosContainerOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Cosmos:Connectors";

    /// <summary>The default <see cref="CosmosContainerOptions.ContainerName"/>, <c>connectors</c>.</summary>
    public const string DefaultContainerName = "connectors";

    /// <summary>The default <see cref="Query"/>, <c>SELECT * FROM c</c>.</summary>
    public const string DefaultQuery = "SELECT * FROM c";

    /// <summary>The default <see cref="ExistsQuery"/>, <c>SELECT * FROM c WHERE c.id = @id</c>.</summary>
    public const string DefaultExistsQuery = "SELECT * FROM c WHERE c.id = @id";

    /// <summary>Creates the options with their defaults.</summary>
    public CosmosConnectorInventoryOptions()
        : base(DefaultContainerName)
    {
    }

    /// <summary>
    /// Gets or sets the container's partition key path. The container must have it; it is used when the container is
    /// created (<see cref="CosmosContainerOptions.CreateIfMissing"/>). Queries run cross-partition unless they name the
    /// partition key in their <c>WHERE</c> clause (with <c>/id</c>, the exists check does).
    /// </summary>
    /// <value>The default is <c>/id</c>.</value>
    [Required(ErrorMessage = "{0} is required.")]
    [RegularExpression(@"^(/[^/\s]+)+$", ErrorMessage = "{0} must be a path such as /id or /subscriptionId.")]
    public string? PartitionKeyPath { get; set; } = "/id";

    /// <summary>
    /// Gets or sets the query that lists the connectors. It returns documents of the shape of
    /// <see cref="CosmosConnectorDocument"/>, or projects other documents into it
    /// (<c>SELECT c.id, c.properties.functionAppResourceId AS resourceId, c.provisioningState AS state FROM c WHERE c.kind = 'iomt'</c>).
    /// It runs cross-partition, page by page.
    /// </summary>
    /// <value>The default is <c>SELECT * FROM c</c>.</value>
    [Required(ErrorMessage = "{0} is required.")]
    public string? Query { get; set; } = DefaultQuery;

    /// <summary>
    /// Gets or sets the query that looks one connector up by id; it must use the parameter <c>@id</c> and return the same
    /// shape as <see cref="Query"/>. A query, not a point read, because the partition key of a connector is not known
    /// from its id in general.
    /// </summary>
    /// <value>The default is <c>SELECT * FROM c WHERE c.id = @id</c>.</value>
    [Required(ErrorMessage = "{0} is required.")]
    public string? ExistsQuery { get; set; } = DefaultExistsQuery;

    /// <summary>Gets or sets the most documents read per page; the fleet is streamed page by page, never loaded at once.</summary>
    /// <value>The default is 100.</value>
    [Range(1, 10_000, ErrorMessage = "{0} must be between 1 and 10000.")]
    public int MaxItemCount { get; set; } = 100;

    /// <summary>
    /// Gets the connector states (compared case-insensitively) that mean the connector is being deleted; such connectors
    /// are left out of the listing and do not exist for <see cref="IConnectorInventory.ExistsAsync"/>.
    /// </summary>
    /// <value>The default is <c>Deleting</c> and <c>Deleted</c>.</value>
    public ICollection<string> ExcludedStates { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Deleting", "Deleted" };

    internal override string RequiredPartitionKeyPath => PartitionKeyPath ?? "/id";
}
