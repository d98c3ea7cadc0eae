using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using IoMT.Deployment.Composition;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// Makes sure an adapter's container exists (or creates it, when allowed) before its first operation, once, and checks
/// its partition key path. A failed check is retried by the next operation.
/// </summary>
internal sealed class CosmosContainerGate
{
    private readonly CosmosClient _client;
    private readonly string _database;
    private readonly string _containerName;
    private readonly string _partitionKeyPath;
    private readonly bool _createIfMissing;
    private readonly string _optionsName;
    private readonly Func<string, Exception?, Exception> _error;
    private readonly string _store;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private Task? _ready;

    public CosmosContainerGate(CosmosClient client, CosmosContainerOptions options, string store, Func<string, Exception?, Exception> error, ILogger logger)
    {
        _store = store;
        OperationTimeout = options.OperationTimeout;
        _client = client;
        _database = options.DatabaseName ?? throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.DatabaseName))} is required.", nameof(options));
        _containerName = options.ContainerName ?? throw new ArgumentException($"{DeploymentOptionsValidation.Key(options, nameof(options.ContainerName))} is required.", nameof(options));
        _partitionKeyPath = options.RequiredPartitionKeyPath;
        _createIfMissing = options.CreateIfMissing;
        _optionsName = options.GetType().Name;
        _error = error;
        _logger = logger;
        Container = client.GetContainer(_database, _containerName);
    }

    /// <summary>Gets how long one operation may take, or <see langword="null"/> for the SDK's own timeouts.</summary>
    public TimeSpan? OperationTimeout { get; }

    /// <summary>A token for one operation: the caller's, cancelled also after <see cref="OperationTimeout"/>.</summary>
    public CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (OperationTimeout is { } timeout)
        {
            deadline.CancelAfter(timeout);
        }

        return deadline;
    }

    /// <summary>Gets the container (no request is made).</summary>
    public Container Container { get; }

    /// <summary>Gets <c>database/container</c>, for messages.</summary>
    public string Name => $"{_database}/{_containerName}";

    /// <summary>Gets the account endpoint with the database and container, for messages.</summary>
    public string Endpoint => $"{_client.Endpoint.AbsoluteUri.TrimEnd('/')}/{_database}/{_containerName}";

    /// <summary>
    /// The Abstractions' exception for a store failure while doing <paramref name="operation"/>: throttled (429) beyond the
    /// SDK's retries, access refused (401/403), or unreachable / not answering. No Cosmos exception type leaves the adapter
    /// except as the inner exception.
    /// </summary>
    public DeploymentException Unavailable(string operation, Exception exception) => exception switch
    {
        CosmosException { StatusCode: HttpStatusCode.TooManyRequests } throttled => new StoreThrottledException(_store, Endpoint, operation, throttled.RetryAfter, exception),
        CosmosException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } denied =>
            new StoreAccessDeniedException(_store, Endpoint, operation, $"HTTP {(int)denied.StatusCode}/{denied.SubStatusCode}", exception),
        _ => new StoreUnavailableException(_store, Endpoint, operation, isTransient: true, CosmosStoreFailures.Describe(exception), exception),
    };

    /// <summary>Gets the message for a database or container that is missing.</summary>
    public string MissingMessage =>
        $"The Cosmos DB container '{_containerName}' in database '{_database}' does not exist. Create it with partition key path " +
        $"'{_partitionKeyPath}', or set {_optionsName}.CreateIfMissing to true.";

    public async ValueTask<Container> GetAsync(CancellationToken cancellationToken)
    {
        Task ready;
        lock (_sync)
        {
            // One check shared by concurrent callers; a failed one is tried again by the next caller. It is not tied to
            // any caller's token, so one cancelled caller does not fail the others.
            if (_ready is null || _ready.IsFaulted || _ready.IsCanceled)
            {
                _ready = EnsureAsync(CancellationToken.None);
            }

            ready = _ready;
        }

        await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Container;
    }

    private async Task EnsureAsync(CancellationToken cancellationToken)
    {
        ContainerProperties properties;
        try
        {
            if (_createIfMissing)
            {
                var database = await _client.CreateDatabaseIfNotExistsAsync(_database, cancellationToken: cancellationToken).ConfigureAwait(false);
                var created = await database.Database.CreateContainerIfNotExistsAsync(
                    new ContainerProperties(_containerName, _partitionKeyPath), cancellationToken: cancellationToken).ConfigureAwait(false);
                properties = created.Resource;
                if (created.StatusCode == HttpStatusCode.Created)
                {
                    Log.ContainerCreated(_logger, _database, _containerName, _partitionKeyPath);
                }
            }
            else
            {
                properties = (await Container.ReadContainerAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Resource;
            }
        }
        catch (Exception e) when (CosmosStoreFailures.IsUnavailable(e, cancellationToken))
        {
            // Left for the operation that waits on the check to name in its StoreUnavailableException.
            throw;
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw _error(MissingMessage, e);
        }
        catch (CosmosException e) when (!CosmosStatus.IsThrottled(e.StatusCode))
        {
            throw _error($"The Cosmos DB container '{Name}' could not be {(_createIfMissing ? "created or read" : "read")}: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }
        catch (ArgumentException e) when (_createIfMissing)
        {
            // CreateContainerIfNotExistsAsync refuses an existing container with another partition key path.
            throw _error($"The Cosmos DB container '{Name}' exists with another partition key path than '{_partitionKeyPath}'.", e);
        }

        var actual = properties.PartitionKeyPath;
        if (!string.Equals(actual, _partitionKeyPath, StringComparison.Ordinal))
        {
            throw _error(
                $"The Cosmos DB container '{Name}' has partition key path '{actual ?? string.Join(",", properties.PartitionKeyPaths ?? [])}', " +
                $"but it must be '{_partitionKeyPath}'.", null);
        }

        Log.ContainerReady(_logger, _database, _containerName, _partitionKeyPath);
    }
}

/// <summary>Status codes and the checks every adapter makes on them.</summary>
internal static class CosmosStatus
{
    /// <summary>The sub-status of a 404 when the container or database, not the document, is missing.</summary>
    private const int OwnerResourceNotFound = 1003;

    public static bool IsThrottled(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests;

    public static int SubStatus(ResponseMessage response) =>
        int.TryParse(response.Headers["x-ms-substatus"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var sub) ? sub : 0;

    /// <summary>Tells a 404 for a missing container or database (Cosmos DB says so in its sub-status).</summary>
    public static bool IsOwnerMissing(ResponseMessage response) =>
        response.StatusCode == HttpStatusCode.NotFound && SubStatus(response) == OwnerResourceNotFound;

    /// <summary>
    /// Throws for a failed response: a 429 that outlasted the SDK's retries as the SDK's own <see cref="CosmosException"/>
    /// (never swallowed, never disguised), and so is a 408 or 5xx-unavailable one, for the caller to map to
    /// <see cref="StoreUnavailableException"/> with its operation; anything else as the adapter's exception with the Cosmos one inside.
    /// </summary>
    public static Exception Fail(ResponseMessage response, Func<string, Exception?, Exception> error, string what)
    {
        try
        {
            response.EnsureSuccessStatusCode();
        }
        catch (CosmosException e) when (IsThrottled(e.StatusCode) || CosmosStoreFailures.IsUnavailable(e.StatusCode))
        {
            throw;
        }
        catch (CosmosException e)
        {
            return error($"{what} failed: HTTP {(int)e.StatusCode}/{e.SubStatusCode}.", e);
        }

        return error($"{what} failed: HTTP {(int)response.StatusCode}.", null);
    }

    /// <summary>Streams the documents of a query page by page; each element is valid only until the next one is asked for.</summary>
    public static async IAsyncEnumerable<JsonElement> QueryAsync(
        Container container,
        QueryDefinition query,
        QueryRequestOptions? options,
        Func<ResponseMessage, Exception> fail,
        Action<int>? pageRead,
        TimeSpan? pageTimeout,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var iterator = container.GetItemQueryStreamIterator(query, continuationToken: null, requestOptions: options);
        var page = 0;
        while (iterator.HasMoreResults)
        {
            using var pageDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (pageTimeout is { } timeout)
            {
                pageDeadline.CancelAfter(timeout);
            }

            using var response = await iterator.ReadNextAsync(pageDeadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw fail(response);
            }

            page++;
            using var json = await JsonDocument.ParseAsync(response.Content, cancellationToken: cancellationToken).ConfigureAwait(false);
            var documents = json.RootElement.TryGetProperty("Documents", out var d) && d.ValueKind == JsonValueKind.Array ? d : default;
            pageRead?.Invoke(documents.ValueKind == JsonValueKind.Array ? documents.GetArrayLength() : 0);
            if (documents.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var document in documents.EnumerateArray())
            {
                yield return document;
            }
        }
    }

    /// <summary>Reads a document's <c>id</c> for messages, or a placeholder.</summary>
    public static string IdOf(JsonElement document) =>
        document.ValueKind == JsonValueKind.Object && document.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()!
            : "(no id)";
}

/// <summary>Builds the <see cref="CosmosClient"/> of an adapter from its options, or takes the one the host registered.</summary>
/// <typeparam name="TOptions">The adapter's options.</typeparam>
internal sealed class CosmosClientSource<TOptions> : IDisposable
    where TOptions : CosmosContainerOptions
{
    private readonly bool _owned;

    public CosmosClientSource(Microsoft.Extensions.Options.IOptions<TOptions> options, IServiceProvider services)
    {
        var value = options.Value;
        if (value.AccountEndpoint is null)
        {
            Client = (CosmosClient?)services.GetService(typeof(CosmosClient)) ?? throw new InvalidOperationException(
                $"{DeploymentOptionsValidation.Key(value, nameof(value.AccountEndpoint), HostSection(services))} is not set and no CosmosClient is registered in the service collection: set one of them.");
        }
        else
        {
            Client = Create(value, () => Microsoft.Extensions.DependencyInjection.IoMTDeploymentBuilderExtensions.GetDeploymentCredential(services, Microsoft.Extensions.DependencyInjection.CosmosDeploymentBuilderExtensions.RequiredBy<TOptions>()));
            _owned = true;
        }
    }

    public CosmosClient Client { get; }

    // The section the host binds the options from (UseOptionsSection), or null for the options' own.
    private static string? HostSection(IServiceProvider services) =>
        (services.GetService(typeof(OptionsSection<TOptions>)) as OptionsSection<TOptions>)?.Name;

    public static CosmosClient Create(CosmosContainerOptions options, Func<Azure.Core.TokenCredential>? credential = null)
    {
        var endpoint = options.AccountEndpoint!.AbsoluteUri;
        var clientOptions = new CosmosClientOptions { ApplicationName = "IoMT.Deployment" };
        options.ConfigureClientOptions?.Invoke(clientOptions);
        return string.IsNullOrEmpty(options.AccountKey)
            ? new CosmosClient(endpoint, (credential ?? throw new InvalidOperationException("No AccountKey and no credential for the Cosmos DB account."))(), clientOptions)
            : new CosmosClient(endpoint, options.AccountKey, clientOptions);
    }

    public void Dispose()
    {
        if (_owned)
        {
            Client.Dispose();
        }
    }
}
