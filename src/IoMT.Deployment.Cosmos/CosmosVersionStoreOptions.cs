using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;

namespace IoMT.Deployment.Cosmos;

/// <summary>Options of <see cref="CosmosVersionStore"/>: where the version state and the rollout history live.</summary>
/// <remarks>
/// The container is partitioned by <c>/id</c> (<see cref="PartitionKeyPath"/>): the state is one document, each history
/// entry is another. It may be shared with other documents; the store only touches documents of its own types.
/// </remarks>
[OptionsSection(SectionName)]
public sealed class CosmosVersionStoreOptions : CosmosContainerOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Cosmos:VersionStore";

    /// <summary>The partition key path the version store's container must have, <c>/id</c>.</summary>
    public const string PartitionKeyPath = "/id";

    /// <summary>The default <see cref="CosmosContainerOptions.ContainerName"/>, <c>deployment</c>.</summary>
    public const string DefaultContainerName = "deployment";

    /// <summary>The default <see cref="StateDocumentId"/>, <c>version-state</c>.</summary>
    public const string DefaultStateDocumentId = "version-state";

    /// <summary>Creates the options with their defaults.</summary>
    public CosmosVersionStoreOptions()
        : base(DefaultContainerName)
    {
    }

    /// <summary>
    /// Gets or sets the id of the version state document. History documents are named after it
    /// (<c>{StateDocumentId}.history.{sequence}</c>), so several states (one per environment) can share a container.
    /// </summary>
    /// <value>The default is <c>version-state</c>.</value>
    [Required(ErrorMessage = "{0} is required.")]
    [MaxLength(200, ErrorMessage = "{0} is longer than 200 characters.")]
    [RegularExpression(CosmosResourceName.Pattern, ErrorMessage = CosmosResourceName.Rule)]
    public string? StateDocumentId { get; set; } = DefaultStateDocumentId;

    /// <summary>
    /// Gets or sets how many rollout history entries are kept. Appending beyond it deletes the oldest entries, so the
    /// history never grows without bound.
    /// </summary>
    /// <value>The default is 100.</value>
    [Range(1, 100_000, ErrorMessage = "{0} must be between 1 and 100000.")]
    public int HistoryLimit { get; set; } = 100;

    internal override string RequiredPartitionKeyPath => PartitionKeyPath;
}
