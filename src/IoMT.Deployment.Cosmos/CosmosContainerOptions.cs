using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// Where a Cosmos DB adapter keeps its documents (database and container) and how it reaches the account.
/// </summary>
/// <remarks>
/// <para>
/// The client comes from one of three places, chosen at composition and built once:
/// a <see cref="CosmosClient"/> registered in the service collection (when <see cref="AccountEndpoint"/> is not set; register
/// one client to share it between the version store and the inventory), or <see cref="AccountEndpoint"/> with a
/// the credential set once on the builder (<c>UseCredential</c>; start-up fails naming it when none is set), or <see cref="AccountEndpoint"/> with an
/// <see cref="AccountKey"/> (emulators and test servers).
/// </para>
/// <para>
/// The adapters use only the SDK's stream APIs and serialize their own documents with System.Text.Json, so any client
/// works, whatever serializer it was configured with.
/// </para>
/// </remarks>
public abstract class CosmosContainerOptions
{
    /// <summary>Creates the options with the adapter's default container name.</summary>
    /// <param name="defaultContainerName">The default of <see cref="ContainerName"/>.</param>
    private protected CosmosContainerOptions(string defaultContainerName)
    {
        ContainerName = defaultContainerName;
    }

    /// <summary>Gets or sets the account endpoint, for example <c>https://myaccount.documents.azure.com:443/</c>.</summary>
    /// <value>The default is <see langword="null"/>: use the <see cref="CosmosClient"/> registered in the service collection.</value>
    public Uri? AccountEndpoint { get; set; }

    /// <summary>
    /// Gets or sets the base64 account key for <see cref="AccountEndpoint"/>, for emulators and test servers. Never logged.
    /// </summary>
    /// <value>The default is <see langword="null"/>: authenticate with the builder's credential (<c>UseCredential</c>).</value>
    public string? AccountKey { get; set; }

    /// <summary>
    /// Gets or sets a callback that adjusts the client options when the adapter builds its own client from
    /// <see cref="AccountEndpoint"/> (connection mode, regions, retry options, certificate validation for a local server).
    /// </summary>
    /// <value>The default is <see langword="null"/>: the SDK's defaults, with the application name <c>IoMT.Deployment</c>.</value>
    public Action<CosmosClientOptions>? ConfigureClientOptions { get; set; }

    /// <summary>
    /// Gets or sets how long one operation may take (a point read or write with the SDK's retries, or one page of a
    /// query) before the adapter gives up with <see cref="StoreUnavailableException"/>: the bound on the time to fail when
    /// the account does not answer. Throttling (429) is not cut short by it unless its retries outlast it.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the SDK's own timeouts (over a minute per request when the account does not answer). Between 1 second and 10 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "{0} must be between 1 second and 10 minutes.")]
    public TimeSpan? OperationTimeout { get; set; }

    /// <summary>Gets or sets the database name: the global database that holds the container.</summary>
    /// <value>No default: the host names its database.</value>
    [Required(ErrorMessage = "{0} is required: name the database that holds the container.")]
    [MaxLength(255, ErrorMessage = "{0} is longer than 255 characters.")]
    [RegularExpression(CosmosResourceName.Pattern, ErrorMessage = CosmosResourceName.Rule)]
    public string? DatabaseName { get; set; }

    /// <summary>Gets or sets the container name.</summary>
    /// <value>The default depends on the adapter.</value>
    [Required(ErrorMessage = "{0} is required.")]
    [MaxLength(255, ErrorMessage = "{0} is longer than 255 characters.")]
    [RegularExpression(CosmosResourceName.Pattern, ErrorMessage = CosmosResourceName.Rule)]
    public string? ContainerName { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the database and container are created when missing. When off and either is
    /// missing, the first operation fails with an error that names both. Creating needs key access or control-plane
    /// rights; data-plane role assignments cannot create containers.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool CreateIfMissing { get; set; }

    /// <summary>Gets the partition key path the container must have (and gets when created).</summary>
    internal abstract string RequiredPartitionKeyPath { get; }
}

/// <summary>What Cosmos DB accepts as a database, container or document id.</summary>
internal static class CosmosResourceName
{
    public const string Pattern = @"^[^/\\?#]*[^/\\?#\s]$";

    /// <summary>The failure of <see cref="Pattern"/>; <c>{0}</c> is the setting's key.</summary>
    public const string Rule = "{0} is not a valid Cosmos DB name: it cannot be empty, contain '/', '\\', '?' or '#', or end with a space.";

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 255 && name.AsSpan().IndexOfAny("/\\?#") < 0 && !char.IsWhiteSpace(name[^1]);
}
