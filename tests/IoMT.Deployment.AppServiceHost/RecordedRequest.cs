namespace IoMT.Deployment.Loopback;

/// <summary>The endpoints the host serves.</summary>
public enum AppServiceRoute
{
    /// <summary>Not an endpoint of the host.</summary>
    Unknown,

    /// <summary><c>GET …/providers/Microsoft.Web/sites</c> (subscription or resource group).</summary>
    ListSites,

    /// <summary><c>GET …/sites/{name}</c>.</summary>
    GetSite,

    /// <summary><c>POST …/sites/{name}/config/appsettings/list</c>.</summary>
    ListAppSettings,

    /// <summary><c>PUT …/sites/{name}/config/appsettings</c>.</summary>
    PutAppSettings,

    /// <summary><c>POST …/sites/{name}/syncfunctiontriggers</c>.</summary>
    SyncFunctionTriggers,

    /// <summary><c>POST {scm}/api/zipdeploy</c>.</summary>
    ZipDeploy,

    /// <summary><c>GET {scm}/api/deployments/latest</c> or <c>GET {scm}/api/deployments/{id}</c>.</summary>
    DeploymentStatus,

    /// <summary><c>GET …/sites/{name}/host/default/properties/status</c>.</summary>
    HostStatus,

    /// <summary><c>GET …/sites/{name}/providers/Microsoft.Insights/metrics</c>.</summary>
    Metrics,

    /// <summary><c>POST https://{region}.metrics…/subscriptions/{id}/metrics:getBatch</c>.</summary>
    MetricsBatch,

    /// <summary><c>GET {IDENTITY_ENDPOINT}?resource=…&amp;api-version=2019-08-01</c>: the App Service managed-identity token endpoint.</summary>
    ManagedIdentityToken,

    /// <summary><c>POST /v1/apps/{appId}/query</c>: the Application Insights query API (the app id is recorded as the app).</summary>
    AppInsightsQuery,
}

/// <summary>One request the host answered.</summary>
/// <param name="At">When it arrived.</param>
/// <param name="Route">Which endpoint it hit.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Host">The Host header.</param>
/// <param name="Path">The path and query.</param>
/// <param name="App">The app's name, when the request named one.</param>
/// <param name="StatusCode">The status answered; 0 when the connection was dropped without an answer.</param>
/// <param name="TokenAudience">The audience of the bearer token, when it was a JWT.</param>
/// <param name="HadBearerToken">Whether a bearer token was sent.</param>
/// <param name="RequestBytes">The request body size, for uploads.</param>
public sealed record RecordedRequest(
    DateTimeOffset At,
    AppServiceRoute Route,
    string Method,
    string Host,
    string Path,
    string? App,
    int StatusCode,
    string? TokenAudience,
    bool HadBearerToken,
    long RequestBytes)
{
    /// <summary>
    /// Gets the request's place in the order the host received requests (1, 2, …). The log holds requests in the order
    /// they were answered, and a client may have the answer (and send its next request) before the answer is logged;
    /// with a clock that stands still, <see cref="At"/> ties. Order one client's requests by this.
    /// </summary>
    public long Sequence { get; init; }
}
