using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace IoMT.Deployment.Kudu;

/// <summary>A Function app as ARM describes it: only what the adapters use.</summary>
/// <param name="Id">The resource id.</param>
/// <param name="Name">The site name.</param>
/// <param name="Kind">The site kind (<c>functionapp,linux</c>, <c>app</c>, <c>functionapp,workflowapp</c>…).</param>
/// <param name="Tags">The resource tags.</param>
/// <param name="RepositoryHostName">The scm (Kudu) host name from <c>properties.hostNameSslStates[hostType=Repository]</c>, when present.</param>
internal sealed record SiteInfo(string Id, string Name, string? Kind, IReadOnlyDictionary<string, string> Tags, string? RepositoryHostName)
{
    /// <summary>Gets a value indicating whether the site is a Function app (and not a Logic Apps Standard workflow app).</summary>
    public bool IsFunctionApp =>
        Kind is not null
        && Kind.Contains("functionapp", StringComparison.OrdinalIgnoreCase)
        && !Kind.Contains("workflowapp", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Builds the Azure.Core pipelines of the App Service adapters.</summary>
internal sealed class AppServiceClientOptions : ClientOptions
{
    public AppServiceClientOptions(AppServiceOptions options, TimeProvider time)
    {
        // Retries follow Azure.Core's rules but wait on the injected clock (ClockRetryPolicy); the network timeout per try stays here.
        RetryPolicy = new ClockRetryPolicy(options, time);
        Retry.NetworkTimeout = options.NetworkTimeout;
        Diagnostics.ApplicationId = "IoMT.Deployment";

        // Request and response bodies carry app settings: never log them, whatever a listener asks for.
        Diagnostics.IsLoggingContentEnabled = false;
        if (options.Transport is not null)
        {
            Transport = options.Transport;
        }
    }

    /// <summary>Builds a pipeline that authenticates with a bearer token for <paramref name="scope"/>.</summary>
    public static HttpPipeline BuildPipeline(AppServiceOptions options, TokenCredential credential, string scope, TimeProvider time)
    {
        var clientOptions = new AppServiceClientOptions(options, time);

        // The subscription throttle runs on every try (a retry takes a token too, and sees the shared pause), before the
        // token is fetched; it only meters requests to the ARM endpoint (the scm host and the metrics endpoint are not ARM).
        HttpPipelinePolicy[] perRetry = options.SubscriptionThrottle is { } throttle
            ? [throttle.CreatePolicy(options.ArmEndpoint), new BearerTokenAuthenticationPolicy(credential, scope)]
            : [new BearerTokenAuthenticationPolicy(credential, scope)];
        return HttpPipelineBuilder.Build(
            clientOptions,
            perCallPolicies: [],
            perRetryPolicies: perRetry,
            responseClassifier: new ResponseClassifier());
    }
}

/// <summary>The Microsoft.Web ARM calls the adapters make: site, app settings, trigger sync, site listing.</summary>
internal sealed class AppServiceArmClient
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;
    private readonly string _apiVersion;

    public AppServiceArmClient(AppServiceOptions options, TokenCredential credential, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _pipeline = AppServiceClientOptions.BuildPipeline(options, credential, options.ArmScope, time);
        _endpoint = options.ArmEndpoint;
        _apiVersion = options.ApiVersion;
    }

    /// <summary>Reads the site; <see langword="null"/> when it does not exist.</summary>
    public async Task<SiteInfo?> TryGetSiteAsync(ResourceIdentifier siteId, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Get, siteId.ToString(), string.Empty);
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status == 404)
        {
            return null;
        }

        EnsureSuccess(response);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        return ParseSite(document.RootElement);
    }

    /// <summary>Reads the site.</summary>
    /// <exception cref="ConnectorNotFoundException">The site does not exist.</exception>
    public async Task<SiteInfo> GetSiteAsync(ResourceIdentifier siteId, string connectorId, CancellationToken cancellationToken) =>
        await TryGetSiteAsync(siteId, cancellationToken).ConfigureAwait(false)
            ?? throw NotFound(connectorId, siteId, inner: null);

    /// <summary>Reads every app setting through ARM (<c>POST …/config/appsettings/list</c>).</summary>
    /// <exception cref="ConnectorNotFoundException">The site does not exist.</exception>
    public async Task<Dictionary<string, string>> ListAppSettingsAsync(ResourceIdentifier siteId, string connectorId, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Post, siteId.ToString(), "/config/appsettings/list");
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        EnsureSuccess(response, connectorId, siteId);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (document.RootElement.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                settings[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Null => string.Empty,
                    _ => property.Value.GetRawText(),
                };
            }
        }

        return settings;
    }

    /// <summary>Writes the app settings (<c>PUT …/config/appsettings</c>). The PUT replaces every setting: pass them all.</summary>
    /// <exception cref="ConnectorNotFoundException">The site does not exist.</exception>
    public async Task PutAppSettingsAsync(ResourceIdentifier siteId, string connectorId, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("properties");
            foreach (var (name, value) in settings)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        using var message = CreateMessage(RequestMethod.Put, siteId.ToString(), "/config/appsettings");
        message.Request.Headers.SetValue(HttpHeader.Names.ContentType, "application/json");
        message.Request.Content = RequestContent.Create(new BinaryData(buffer.ToArray()));
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(message.Response, connectorId, siteId);
    }

    /// <summary>Asks the platform to read the app's function triggers again (<c>POST …/syncfunctiontriggers</c>).</summary>
    /// <exception cref="ConnectorNotFoundException">The site does not exist.</exception>
    public async Task SyncFunctionTriggersAsync(ResourceIdentifier siteId, string connectorId, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Post, siteId.ToString(), "/syncfunctiontriggers");
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(message.Response, connectorId, siteId);
    }

    /// <summary>Lists the sites under a scope (<c>/subscriptions/{id}</c> or a resource group), one page at a time, following <c>nextLink</c>.</summary>
    public async IAsyncEnumerable<IReadOnlyList<SiteInfo>> ListSitePagesAsync(string scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Uri? next = null;
        var first = true;
        while (first || next is not null)
        {
            using var message = first
                ? CreateMessage(RequestMethod.Get, scope, "/providers/Microsoft.Web/sites")
                : CreateMessage(RequestMethod.Get, next!);
            first = false;
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            EnsureSuccess(message.Response);
            var page = new List<SiteInfo>();
            using (var document = JsonDocument.Parse(message.Response.Content.ToMemory()))
            {
                var root = document.RootElement;
                if (root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var site in value.EnumerateArray())
                    {
                        page.Add(ParseSite(site));
                    }
                }

                next = root.TryGetProperty("nextLink", out var link) && link.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(link.GetString())
                    ? CheckNextLink(link.GetString()!)
                    : null;
            }

            yield return page;
        }
    }

    /// <summary>
    /// Sends a GET to <c>{arm}{resourcePath}{suffix}?{query}</c> (the query names its own <c>api-version</c>) and returns the
    /// message, whose response the caller reads and disposes. Error statuses are returned, not thrown.
    /// </summary>
    public async Task<HttpMessage> GetAsync(string resourcePath, string suffix, string query, CancellationToken cancellationToken)
    {
        var message = CreateMessage(RequestMethod.Get, new Uri(_endpoint, "/" + resourcePath.Trim('/') + suffix + "?" + query));
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message;
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    private HttpMessage CreateMessage(RequestMethod method, string resourcePath, string suffix)
    {
        var path = "/" + resourcePath.Trim('/') + suffix + "?api-version=" + Uri.EscapeDataString(_apiVersion);
        return CreateMessage(method, new Uri(_endpoint, path));
    }

    private HttpMessage CreateMessage(RequestMethod method, Uri absolute)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(absolute);
        message.Request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
        return message;
    }

    // A nextLink carries our bearer token wherever it points: follow it only on the ARM endpoint itself.
    private Uri CheckNextLink(string link)
    {
        if (!Uri.TryCreate(link, UriKind.Absolute, out var uri)
            || !string.Equals(uri.Scheme, _endpoint.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(uri.Authority, _endpoint.Authority, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"ARM answered a nextLink outside the configured ArmEndpoint ({_endpoint.GetLeftPart(UriPartial.Authority)}); refusing to follow it.");
        }

        return uri;
    }

    internal static SiteInfo ParseSite(JsonElement site)
    {
        var id = site.TryGetProperty("id", out var idElement) ? idElement.GetString() ?? string.Empty : string.Empty;
        var name = site.TryGetProperty("name", out var nameElement) ? nameElement.GetString() ?? string.Empty : string.Empty;
        var kind = site.TryGetProperty("kind", out var kindElement) && kindElement.ValueKind == JsonValueKind.String ? kindElement.GetString() : null;
        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (site.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var tag in tagsElement.EnumerateObject())
            {
                tags[tag.Name] = tag.Value.ValueKind == JsonValueKind.String ? tag.Value.GetString()! : tag.Value.GetRawText();
            }
        }

        string? repository = null;
        if (site.TryGetProperty("properties", out var properties)
            && properties.ValueKind == JsonValueKind.Object
            && properties.TryGetProperty("hostNameSslStates", out var states)
            && states.ValueKind == JsonValueKind.Array)
        {
            foreach (var state in states.EnumerateArray())
            {
                if (IsRepository(state) && state.TryGetProperty("name", out var hostName) && hostName.ValueKind == JsonValueKind.String)
                {
                    repository = hostName.GetString();
                    break;
                }
            }
        }

        return new SiteInfo(id, name, kind, tags, repository);
    }

    // hostType is "Standard" or "Repository"; older serializations send the enum's number (0 or 1).
    private static bool IsRepository(JsonElement state) =>
        state.TryGetProperty("hostType", out var hostType)
        && ((hostType.ValueKind == JsonValueKind.String && string.Equals(hostType.GetString(), "Repository", StringComparison.OrdinalIgnoreCase))
            || (hostType.ValueKind == JsonValueKind.Number && hostType.TryGetInt32(out var number) && number == 1));

    internal static ConnectorNotFoundException NotFound(string connectorId, ResourceIdentifier siteId, Exception? inner) =>
        new(connectorId, $"The Function app '{siteId.Name}' of connector '{connectorId}' does not exist (404).", inner);

    private static void EnsureSuccess(Response response, string connectorId, ResourceIdentifier siteId)
    {
        if (response.Status == 404)
        {
            throw NotFound(connectorId, siteId, new RequestFailedException(response));
        }

        EnsureSuccess(response);
    }

    private static void EnsureSuccess(Response response)
    {
        if (response.IsError)
        {
            throw new RequestFailedException(response);
        }
    }
}
