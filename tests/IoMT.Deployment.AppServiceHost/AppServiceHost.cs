using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.Loopback;

/// <summary>
/// A loopback App Service: the ARM Microsoft.Web endpoints (sites list with paging, site GET, app settings list and
/// replace-all PUT, trigger sync) and each app's Kudu endpoints (async zip deploy, <c>deployments/latest</c>) over
/// HTTPS on Kestrel on 127.0.0.1, with a bearer token required on every route and faults injected per app.
/// </summary>
/// <remarks>
/// <para>ARM is served at <see cref="ArmEndpoint"/> (<c>https://127.0.0.1:{port}</c>). Each app's scm site is served on the
/// same port under a host name that only the site's <c>hostNameSslStates[hostType=Repository]</c> reveals
/// (<c>{name}-{random}.scm.appservice.localhost:{port}</c>). Those names do not resolve through DNS: clients use
/// <see cref="CreateHttpMessageHandler"/> or <see cref="CreateTransport"/>, which map <c>*.localhost</c> to the loopback
/// address and trust the host's self-signed certificate.</para>
/// <para>Use <see cref="Credential"/> for tokens: it mints test JWTs whose audience is the scope, which the host records
/// (<see cref="RecordedRequest.TokenAudience"/>) and checks per route (<see cref="AppServiceHostOptions.EnforceAudience"/>).</para>
/// </remarks>
public sealed partial class AppServiceHost : IAsyncDisposable
{
    /// <summary>The DNS suffix of the scm host names.</summary>
    public const string ScmDomain = "scm.appservice.localhost";

    private const string ArmAudience = "https://management.azure.com";
    private const string ScmAudience = "https://management.core.windows.net";

    private readonly AppServiceHostOptions _options;
    private readonly TimeProvider _time;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, AppServiceApp> _apps = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, AppServiceApp> _scmHosts = new(StringComparer.OrdinalIgnoreCase);

    // Every scm host ever served, deleted apps' included: AppFaults.ScmUnreachable outlives the app.
    private readonly ConcurrentDictionary<string, AppServiceApp> _allScmHosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private long _arrivals;
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _appsLock = new();
    private WebApplication? _web;
    private TokenBucket? _readBucket;
    private TokenBucket? _writeBucket;
    private int _pageSize;

    private AppServiceHost(AppServiceHostOptions options)
    {
        _options = options;
        _time = options.TimeProvider;
        _pageSize = options.PageSize;
        _certificate = CreateCertificate();
        Credential = new LoopbackTokenCredential(_time);
        ArmReadThrottle = options.ArmReadThrottle;
        ArmWriteThrottle = options.ArmWriteThrottle;
    }

    /// <summary>Gets the ARM endpoint, <c>https://127.0.0.1:{port}</c>.</summary>
    public Uri ArmEndpoint { get; private set; } = null!;

    /// <summary>Gets the port ARM and every scm site are served on.</summary>
    public int Port { get; private set; }

    /// <summary>Gets the host's self-signed certificate (trusted by <see cref="CreateHttpMessageHandler"/>).</summary>
    public X509Certificate2 Certificate => _certificate;

    /// <summary>Gets a credential minting test JWTs for the requested scope.</summary>
    public LoopbackTokenCredential Credential { get; }

    /// <summary>Gets or sets how many sites one page of a sites listing holds.</summary>
    public int PageSize
    {
        get => Volatile.Read(ref _pageSize);
        set => Volatile.Write(ref _pageSize, value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "PageSize must be positive."));
    }

    /// <summary>Gets or sets the token bucket for ARM reads, or <see langword="null"/> for none. Setting it starts a full bucket.</summary>
    public ThrottleSettings? ArmReadThrottle
    {
        get => Volatile.Read(ref _readBucket)?.Settings;
        set => Volatile.Write(ref _readBucket, value is null ? null : new TokenBucket(value, _time));
    }

    /// <summary>Gets or sets the token bucket for ARM writes, or <see langword="null"/> for none. Setting it starts a full bucket.</summary>
    public ThrottleSettings? ArmWriteThrottle
    {
        get => Volatile.Read(ref _writeBucket)?.Settings;
        set => Volatile.Write(ref _writeBucket, value is null ? null : new TokenBucket(value, _time));
    }

    /// <summary>Gets the live (not deleted) apps.</summary>
    public IReadOnlyCollection<AppServiceApp> Apps => [.. _apps.Values];

    /// <summary>Gets every request answered so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> RequestLog => [.. _requests];

    /// <summary>Starts a host on a free loopback port.</summary>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running host; dispose it to stop it.</returns>
    public static async Task<AppServiceHost> StartAsync(AppServiceHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AppServiceHostOptions();
        if (options.PageSize <= 0)
        {
            throw new ArgumentException("AppServiceHostOptions.PageSize must be positive.", nameof(options));
        }

        var host = new AppServiceHost(options);
        try
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().ConfigureKestrel(kestrel =>
            {
                kestrel.Limits.MaxRequestBodySize = options.MaxUploadBytes;
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(host._certificate));
            });
            var web = builder.Build();
            web.Run(host.HandleAsync);
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
            host._web = web;
            var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            host.Port = new Uri(address).Port;
            host.ArmEndpoint = new Uri($"https://127.0.0.1:{host.Port}");
            host.StartProxy();
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds a site.</summary>
    /// <param name="subscriptionId">The subscription id.</param>
    /// <param name="resourceGroup">The resource group.</param>
    /// <param name="name">The site name, unique among the live apps (as site names are in Azure).</param>
    /// <param name="kind">The kind, <c>functionapp</c> by default.</param>
    /// <param name="tags">The tags.</param>
    /// <param name="settings">The initial app settings.</param>
    /// <returns>The app.</returns>
    public AppServiceApp AddApp(
        string subscriptionId,
        string resourceGroup,
        string name,
        string kind = "functionapp",
        IReadOnlyDictionary<string, string>? tags = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subscriptionId);
        ArgumentException.ThrowIfNullOrWhiteSpace(resourceGroup);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(kind);
        lock (_appsLock)
        {
            if (_apps.Values.Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException($"A site named '{name}' already exists; site names are unique.");
            }

            var scmLabel = $"{name.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
            var app = new AppServiceApp(
                subscriptionId,
                resourceGroup,
                name,
                kind,
                tags ?? new Dictionary<string, string>(),
                settings ?? new Dictionary<string, string>(),
                $"{scmLabel}.{ScmDomain}:{Port}");
            _apps[app.ResourceId] = app;
            _scmHosts[$"{scmLabel}.{ScmDomain}"] = app;
            _allScmHosts[$"{scmLabel}.{ScmDomain}"] = app;
            return app;
        }
    }

    /// <summary>Finds a live app by name.</summary>
    /// <param name="name">The site name.</param>
    /// <returns>The app, or <see langword="null"/>.</returns>
    public AppServiceApp? FindApp(string name) =>
        _apps.Values.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Deletes an app: from now on ARM and its scm site answer 404.</summary>
    /// <param name="app">The app.</param>
    /// <returns><see langword="true"/> when it was live.</returns>
    public bool DeleteApp(AppServiceApp app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return DeleteApp(app.ResourceId);
    }

    /// <summary>Deletes an app by resource id.</summary>
    /// <param name="resourceId">The resource id.</param>
    /// <returns><see langword="true"/> when it was live.</returns>
    public bool DeleteApp(string resourceId)
    {
        ArgumentNullException.ThrowIfNull(resourceId);
        lock (_appsLock)
        {
            if (!_apps.TryRemove(resourceId, out var app))
            {
                return false;
            }

            _scmHosts.TryRemove(StripPort(app.ScmHostName), out _);
            return app.MarkDeleted();
        }
    }

    /// <summary>Counts the answered requests of a route, for one app or all.</summary>
    /// <param name="route">The route.</param>
    /// <param name="appName">The app's name, or <see langword="null"/> for all.</param>
    /// <returns>The count.</returns>
    public int CountRequests(AppServiceRoute route, string? appName = null) =>
        _requests.Count(r => r.Route == route && (appName is null || string.Equals(r.App, appName, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequestLog() => _requests.Clear();

    /// <summary>
    /// Creates a handler that trusts the host's certificate and connects <c>*.localhost</c> names to 127.0.0.1; a connection
    /// to the scm host of an app with <see cref="AppFaults.ScmUnreachable"/> is refused.
    /// </summary>
    /// <returns>The handler; the caller owns it.</returns>
    public HttpMessageHandler CreateHttpMessageHandler()
    {
        var thumbprint = _certificate.GetCertHashString(HashAlgorithmName.SHA256);
        return new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var endpoint = context.DnsEndPoint;
                if (IsScmUnreachable(endpoint.Host))
                {
                    throw new SocketException((int)SocketError.ConnectionRefused);
                }

                var loopback = endpoint.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                    || endpoint.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (loopback)
                    {
                        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, endpoint.Port), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    }

                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    errors == SslPolicyErrors.None
                    || (certificate is not null && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), thumbprint, StringComparison.OrdinalIgnoreCase)),
            },
        };
    }

    /// <summary>Creates an Azure.Core transport over <see cref="CreateHttpMessageHandler"/>.</summary>
    /// <returns>The transport.</returns>
    public HttpPipelineTransport CreateTransport() => new HttpClientTransport(CreateHttpMessageHandler());

    /// <summary>Creates an <see cref="HttpClient"/> over <see cref="CreateHttpMessageHandler"/> (no token is added).</summary>
    /// <returns>The client; the caller owns it.</returns>
    public HttpClient CreateHttpClient() => new(CreateHttpMessageHandler(), disposeHandler: true);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        StopProxy();
        if (_web is not null)
        {
            await _web.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _web.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_background.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
        }

        _stopping.Dispose();
        _certificate.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=IoMT loopback App Service", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName("*." + ScmDomain);
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7));

        // Round-trip through PKCS#12 so the TLS stack gets a persisted key on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    private bool IsScmUnreachable(string host) => _allScmHosts.TryGetValue(host, out var app) && app.Faults.ScmUnreachable;

    private static string StripPort(string host)
    {
        var colon = host.LastIndexOf(':');
        return colon < 0 ? host : host[..colon];
    }

    private async Task HandleAsync(HttpContext context)
    {
        var call = new Call(context, _time.GetUtcNow(), Interlocked.Increment(ref _arrivals));
        try
        {
            var host = context.Request.Host.Host;
            call.IsScm = host.EndsWith("." + ScmDomain, StringComparison.OrdinalIgnoreCase);
            ReadToken(call);
            if (!call.IsScm && IsManagedIdentityRequest(context))
            {
                call.Route = AppServiceRoute.ManagedIdentityToken;
                await HandleManagedIdentityAsync(call).ConfigureAwait(false);
            }
            else if (call.IsScm)
            {
                await HandleScmAsync(call, host).ConfigureAwait(false);
            }
            else
            {
                await HandleArmAsync(call).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            context.Abort();
        }
        finally
        {
            var recorded = new RecordedRequest(
                call.At,
                call.Route,
                context.Request.Method,
                context.Request.Host.Value ?? string.Empty,
                context.Request.Path + context.Request.QueryString,
                call.App?.Name ?? call.AppName,
                call.Dropped ? 0 : context.Response.StatusCode,
                call.Audience,
                call.Token is not null,
                call.RequestBytes)
            {
                Sequence = call.Sequence,
            };
            _requests.Enqueue(recorded);
            NotifyObservers(recorded);
        }
    }

    private static void ReadToken(Call call)
    {
        var authorization = call.Context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7)
        {
            call.Token = authorization[7..].Trim();
            if (TestJwt.TryRead(call.Token, out var audience, out var expires))
            {
                call.Audience = audience;
                call.Expires = expires;
            }
        }
    }

    // 401 unless a bearer token fits the route: as in Azure, the scm site only takes management.core.windows.net.
    private async Task<bool> AuthorizeAsync(Call call)
    {
        string? problem = null;
        if (call.Token is null)
        {
            problem = "AuthenticationFailed: the request has no bearer token.";
        }
        else if (call.Expires is { } expires && expires < _time.GetUtcNow())
        {
            problem = "ExpiredAuthenticationToken: the token has expired.";
        }
        else if (_options.EnforceAudience && call.Audience is { } audience)
        {
            var fits = call.IsScm
                ? SameAudience(audience, ScmAudience)
                : SameAudience(audience, ArmAudience) || SameAudience(audience, ScmAudience);
            if (!fits)
            {
                problem = $"InvalidAuthenticationTokenAudience: the audience '{audience}' is not accepted here.";
            }
        }

        if (problem is null)
        {
            return true;
        }

        call.Context.Response.Headers.WWWAuthenticate = "Bearer authorization_uri=\"https://login.windows.net/\", error=\"invalid_token\"";
        await ErrorAsync(call, 401, problem[..problem.IndexOf(':', StringComparison.Ordinal)], problem).ConfigureAwait(false);
        return false;
    }

    private static bool SameAudience(string audience, string expected) =>
        string.Equals(audience.TrimEnd('/'), expected, StringComparison.OrdinalIgnoreCase);

    private async Task HandleArmAsync(Call call)
    {
        var request = call.Context.Request;
        var segments = request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (await TryHandleAppInsightsAsync(call, segments).ConfigureAwait(false))
        {
            return;
        }

        if (await TryHandleHealthAsync(call, segments).ConfigureAwait(false))
        {
            return;
        }

        string? subscription = null;
        string? resourceGroup = null;
        string? name = null;
        if (segments.Length == 5 && Is(segments[0], "subscriptions") && IsSitesProvider(segments, 2))
        {
            subscription = segments[1];
            call.Route = AppServiceRoute.ListSites;
        }
        else if (segments.Length >= 7 && Is(segments[0], "subscriptions") && Is(segments[2], "resourceGroups") && IsSitesProvider(segments, 4))
        {
            subscription = segments[1];
            resourceGroup = segments[3];
            name = segments.Length > 7 ? segments[7] : null;
            call.Route = segments.Length switch
            {
                7 => AppServiceRoute.ListSites,
                8 => AppServiceRoute.GetSite,
                9 when Is(segments[8], "syncfunctiontriggers") => AppServiceRoute.SyncFunctionTriggers,
                10 when Is(segments[8], "config") && Is(segments[9], "appsettings") => AppServiceRoute.PutAppSettings,
                11 when Is(segments[8], "config") && Is(segments[9], "appsettings") && Is(segments[10], "list") => AppServiceRoute.ListAppSettings,
                _ => AppServiceRoute.Unknown,
            };
        }

        call.AppName = name;
        if (!await AuthorizeAsync(call).ConfigureAwait(false))
        {
            return;
        }

        if (call.Route == AppServiceRoute.Unknown)
        {
            await ErrorAsync(call, 404, "NoRegisteredProviderFound", "No such ARM endpoint on the loopback App Service host.").ConfigureAwait(false);
            return;
        }

        var expectedMethod = call.Route switch
        {
            AppServiceRoute.ListSites or AppServiceRoute.GetSite => "GET",
            AppServiceRoute.PutAppSettings => "PUT",
            _ => "POST",
        };
        if (!string.Equals(request.Method, expectedMethod, StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(call, 405, "MethodNotAllowed", $"The route needs {expectedMethod}.").ConfigureAwait(false);
            return;
        }

        if (string.IsNullOrEmpty(request.Query["api-version"]))
        {
            await ErrorAsync(call, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.").ConfigureAwait(false);
            return;
        }

        var isWrite = call.Route is AppServiceRoute.PutAppSettings or AppServiceRoute.SyncFunctionTriggers;
        var bucket = Volatile.Read(ref isWrite ? ref _writeBucket : ref _readBucket);
        if (bucket is not null && !bucket.TryTake())
        {
            await TooManyRequestsAsync(call, bucket.Settings.RetryAfterSeconds).ConfigureAwait(false);
            return;
        }

        if (!await TakeSubscriptionTokenAsync(call, subscription, isWrite).ConfigureAwait(false))
        {
            return;
        }

        if (call.Route == AppServiceRoute.ListSites)
        {
            await ListSitesAsync(call, subscription!, resourceGroup).ConfigureAwait(false);
            return;
        }

        var resourceId = $"/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Web/sites/{name}";
        if (!_apps.TryGetValue(resourceId, out var app))
        {
            await ErrorAsync(call, 404, "ResourceNotFound", $"The Resource 'Microsoft.Web/sites/{name}' under resource group '{resourceGroup}' was not found.").ConfigureAwait(false);
            return;
        }

        call.App = app;
        if (!await ApplyFaultsAsync(call, app).ConfigureAwait(false))
        {
            return;
        }

        switch (call.Route)
        {
            case AppServiceRoute.GetSite:
                await JsonAsync(call, 200, writer => WriteSite(writer, app)).ConfigureAwait(false);
                break;
            case AppServiceRoute.ListAppSettings:
                await JsonAsync(call, 200, writer => WriteSettings(writer, app, app.Settings)).ConfigureAwait(false);
                break;
            case AppServiceRoute.PutAppSettings:
                await PutSettingsAsync(call, app).ConfigureAwait(false);
                break;
            case AppServiceRoute.SyncFunctionTriggers:
                app.CountSyncTriggers();
                call.Context.Response.StatusCode = 204;
                break;
        }
    }

    private static bool Is(string segment, string expected) => string.Equals(segment, expected, StringComparison.OrdinalIgnoreCase);

    private static bool IsSitesProvider(string[] segments, int at) =>
        Is(segments[at], "providers") && Is(segments[at + 1], "Microsoft.Web") && Is(segments[at + 2], "sites");

    private async Task ListSitesAsync(Call call, string subscription, string? resourceGroup)
    {
        var query = call.Context.Request.Query;
        var skip = int.TryParse(query["$skiptoken"], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var pageSize = PageSize;
        var inScope = _apps.Values
            .Where(a => string.Equals(a.SubscriptionId, subscription, StringComparison.OrdinalIgnoreCase)
                && (resourceGroup is null || string.Equals(a.ResourceGroup, resourceGroup, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(a => a.ResourceId, StringComparer.OrdinalIgnoreCase)
            .ToList();
        var page = inScope.Skip(skip).Take(pageSize).ToList();
        string? next = null;
        if (skip + page.Count < inScope.Count)
        {
            next = $"{ArmEndpoint.GetLeftPart(UriPartial.Authority)}{call.Context.Request.Path}?api-version={Uri.EscapeDataString(query["api-version"].ToString())}&$skiptoken={skip + page.Count}";
        }

        await JsonAsync(call, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("value");
            foreach (var app in page)
            {
                WriteSite(writer, app);
            }

            writer.WriteEndArray();
            if (next is not null)
            {
                writer.WriteString("nextLink", next);
            }

            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private async Task PutSettingsAsync(Call call, AppServiceApp app)
    {
        Dictionary<string, string> settings;
        try
        {
            var body = await ReadBodyAsync(call).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("The body has no 'properties' object.");
            }

            settings = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in properties.EnumerateObject())
            {
                settings[property.Name] = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()!
                    : throw new JsonException($"The setting '{property.Name}' is not a string.");
            }
        }
        catch (JsonException ex)
        {
            await ErrorAsync(call, 400, "BadRequest", ex.Message).ConfigureAwait(false);
            return;
        }

        app.PutSettings(settings);
        await JsonAsync(call, 200, writer => WriteSettings(writer, app, settings)).ConfigureAwait(false);
    }

    private async Task HandleScmAsync(Call call, string host)
    {
        var request = call.Context.Request;
        var path = request.Path.Value ?? string.Empty;
        const string deployments = "/api/deployments/";
        var deploymentId = path.StartsWith(deployments, StringComparison.OrdinalIgnoreCase) && path.Length > deployments.Length && path.IndexOf('/', deployments.Length) < 0
            ? path[deployments.Length..]
            : null;
        call.Route = path.Equals("/api/zipdeploy", StringComparison.OrdinalIgnoreCase) ? AppServiceRoute.ZipDeploy
            : deploymentId is not null ? AppServiceRoute.DeploymentStatus
            : AppServiceRoute.Unknown;
        if (IsScmUnreachable(host))
        {
            // A connection opened before the fault was set: drop it without an answer.
            call.AppName = _allScmHosts[host].Name;
            call.Dropped = true;
            call.Context.Abort();
            return;
        }

        _scmHosts.TryGetValue(host, out var app);
        call.App = app;

        // The zip is read before any answer, so a refused upload never resets the client's connection mid-body.
        var zip = call.Route == AppServiceRoute.ZipDeploy ? await ReadBodyAsync(call).ConfigureAwait(false) : null;
        if (!await AuthorizeAsync(call).ConfigureAwait(false))
        {
            return;
        }

        if (app is null)
        {
            await TextAsync(call, 404, "text/html", "<html><body>404 Web Site not found.</body></html>").ConfigureAwait(false);
            return;
        }

        if (!await ApplyFaultsAsync(call, app).ConfigureAwait(false))
        {
            return;
        }

        switch (call.Route)
        {
            case AppServiceRoute.ZipDeploy when HttpMethods.IsPost(request.Method):
                await ZipDeployAsync(call, app, zip!).ConfigureAwait(false);
                break;
            case AppServiceRoute.DeploymentStatus when HttpMethods.IsGet(request.Method):
                await DeploymentStatusAsync(call, app, deploymentId!).ConfigureAwait(false);
                break;
            case AppServiceRoute.Unknown:
                await TextAsync(call, 404, "text/plain", "Not found.").ConfigureAwait(false);
                break;
            default:
                await TextAsync(call, 405, "text/plain", "Method not allowed.").ConfigureAwait(false);
                break;
        }
    }

    private async Task ZipDeployAsync(Call call, AppServiceApp app, byte[] zip)
    {
        if (app.Faults.TakeConflict())
        {
            await TextAsync(call, 409, "text/plain", "There is a deployment currently in progress. Please try again when it completes.").ConfigureAwait(false);
            return;
        }

        if (zip.Length == 0)
        {
            await TextAsync(call, 400, "text/plain", "The request body is empty: send the zip.").ConfigureAwait(false);
            return;
        }

        var deployment = app.TryStartDeployment(Convert.ToHexStringLower(SHA256.HashData(zip)), _time.GetUtcNow());
        if (deployment is null)
        {
            await TextAsync(call, 409, "text/plain", "There is a deployment currently in progress. Please try again when it completes.").ConfigureAwait(false);
            return;
        }

        var deleteMidway = app.Faults.TakeDeleteDuringDeployment();
        var run = RunDeploymentAsync(app, zip, deleteMidway);
        _background.TryAdd(run, 0);
        _ = run.ContinueWith(t => _background.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var response = call.Context.Response;
        response.Headers.Location = app.Faults.LocationNamesDeployment
            ? $"https://{call.Context.Request.Host}/api/deployments/{deployment.Id}"
            : $"https://{call.Context.Request.Host}/api/deployments/latest?deployer=Push&time={_time.GetUtcNow():yyyy-MM-ddTHH-mm-ss}Z";
        response.Headers.RetryAfter = "1";
        if (!app.Faults.LocationNamesDeployment && string.Equals(call.Context.Request.Query["trackDeploymentId"], "true", StringComparison.OrdinalIgnoreCase))
        {
            // As Kudu: the id of the deployment just started, for a client that asked to track it.
            response.Headers["SCM-DEPLOYMENT-ID"] = deployment.Id;
        }

        response.StatusCode = 202;
    }

    private async Task RunDeploymentAsync(AppServiceApp app, byte[] zip, bool deleteMidway)
    {
        await Task.Yield();
        try
        {
            var duration = app.Faults.DeploymentDuration ?? _options.DeploymentDuration;
            if (deleteMidway)
            {
                DeleteApp(app);
            }

            await Task.Delay(duration / 2, _time, _stopping.Token).ConfigureAwait(false);
            app.AdvanceDeployment(1, "Building and deploying.");
            await app.Faults.WhileHeldAsync(_stopping.Token).ConfigureAwait(false);
            await Task.Delay(duration / 2, _time, _stopping.Token).ConfigureAwait(false);
            app.AdvanceDeployment(2, "Deploying files.");

            Dictionary<string, DeployedFile>? files = null;
            int status;
            string text;
            if (app.IsDeleted)
            {
                (status, text) = (3, "The site was deleted while the deployment ran.");
            }
            else if (app.Faults.TakeFailDeployment())
            {
                (status, text) = (3, "Deployment failed (injected by the loopback host).");
            }
            else if (app.Faults.FinalStatus is { } final)
            {
                (status, text) = (final, $"Deployment ended with status {final} (injected by the loopback host).");
            }
            else if (!TryExtract(zip, out files, out var problem))
            {
                (status, text) = (3, "Deployment failed: " + problem);
            }
            else
            {
                (status, text) = (4, "Deployment successful.");
            }

            app.EndDeployment(status, text, files, _time.GetUtcNow());
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private bool TryExtract(byte[] zip, out Dictionary<string, DeployedFile>? files, out string? problem)
    {
        files = new Dictionary<string, DeployedFile>(StringComparer.Ordinal);
        problem = null;
        try
        {
            using var archive = new ZipArchive(new MemoryStream(zip, writable: false), ZipArchiveMode.Read);
            foreach (var entry in archive.Entries)
            {
                if (entry.FullName.EndsWith('/'))
                {
                    continue;
                }

                var path = entry.FullName.Replace('\\', '/');
                if (path.StartsWith('/') || path.Split('/').Contains(".."))
                {
                    throw new InvalidDataException($"The zip entry '{entry.FullName}' leaves the site's folder.");
                }

                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var bytes = buffer.ToArray();
                files[path] = new DeployedFile(path, bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes)), _options.RetainFileContent ? bytes : null);
            }

            return true;
        }
        catch (InvalidDataException ex)
        {
            files = null;
            problem = ex.Message;
            return false;
        }
    }

    private async Task DeploymentStatusAsync(Call call, AppServiceApp app, string id)
    {
        if (app.Faults.TakeNonJsonStatus())
        {
            await TextAsync(call, 200, "text/html", "<html><head><title>Site restarting</title></head><body>The scm site is restarting.</body></html>").ConfigureAwait(false);
            return;
        }

        var isLatest = string.Equals(id, "latest", StringComparison.OrdinalIgnoreCase);
        var latest = !isLatest ? app.Find(id)
            : app.Faults.TakePreviousDeployment() ? app.Previous() ?? app.Latest()
            : app.Latest();
        if (latest is null || app.Faults.TakeMissingDeployment())
        {
            // Kudu's answer when it has no such deployment record: the app itself lives.
            await JsonAsync(call, 404, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("Message", $"Deployment '{id}' not found.");
                writer.WriteEndObject();
            }).ConfigureAwait(false);
            return;
        }

        var scm = $"https://{call.Context.Request.Host}";
        await JsonAsync(call, latest.Complete ? 200 : 202, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", latest.Id);
            writer.WriteNumber("status", latest.Status);
            writer.WriteString("status_text", latest.StatusText);
            writer.WriteString("author_email", "N/A");
            writer.WriteString("author", "N/A");
            writer.WriteString("deployer", "Push-Deployer");
            writer.WriteString("message", "Created via a push deployment");
            writer.WriteString("progress", string.Empty);
            writer.WriteString("received_time", latest.ReceivedTime);
            writer.WriteString("start_time", latest.ReceivedTime);
            if (latest.EndTime is { } end)
            {
                writer.WriteString("end_time", end);
            }
            else
            {
                writer.WriteNull("end_time");
            }

            writer.WriteBoolean("complete", latest.Complete);
            writer.WriteBoolean("active", latest.Complete && latest.Status == 4);
            writer.WriteBoolean("is_temp", false);
            writer.WriteBoolean("is_readonly", true);
            writer.WriteString("url", scm + "/api/deployments/" + latest.Id);
            writer.WriteString("log_url", scm + "/api/deployments/" + latest.Id + "/log");
            writer.WriteString("site_name", app.Name);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    /// <summary>Latency, then an injected 429 or server error; <see langword="false"/> when a fault answered.</summary>
    private async Task<bool> ApplyFaultsAsync(Call call, AppServiceApp app)
    {
        var latency = app.Faults.Latency;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, _time, call.Context.RequestAborted).ConfigureAwait(false);
        }

        if (app.Faults.TakeTooManyRequests())
        {
            await TooManyRequestsAsync(call, _options.RetryAfterSeconds).ConfigureAwait(false);
            return false;
        }

        if (app.Faults.TakeServerError(call.Route))
        {
            if (call.IsScm)
            {
                await TextAsync(call, 503, "text/html", "<html><body><h1>Service Unavailable</h1>The scm site is restarting.</body></html>").ConfigureAwait(false);
            }
            else
            {
                await ErrorAsync(call, 500, "InternalServerError", "An injected server error.").ConfigureAwait(false);
            }

            return false;
        }

        return true;
    }

    private Task TooManyRequestsAsync(Call call, int retryAfterSeconds)
    {
        call.Context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ErrorAsync(call, 429, "TooManyRequests", "The request is being throttled; retry after the interval in Retry-After.");
    }

    private void WriteSite(Utf8JsonWriter writer, AppServiceApp app)
    {
        var defaultHost = $"{app.Name.ToLowerInvariant()}.appservice.localhost";
        writer.WriteStartObject();
        writer.WriteString("id", app.ResourceId);
        writer.WriteString("name", app.Name);
        writer.WriteString("type", "Microsoft.Web/sites");
        writer.WriteString("kind", app.Kind);
        writer.WriteString("location", "West Europe");
        writer.WriteStartObject("tags");
        foreach (var (name, value) in app.Tags)
        {
            writer.WriteString(name, value);
        }

        writer.WriteEndObject();
        writer.WriteStartObject("properties");
        writer.WriteString("name", app.Name);
        writer.WriteString("state", "Running");
        writer.WriteStartArray("hostNames");
        writer.WriteStringValue(defaultHost);
        writer.WriteEndArray();
        writer.WriteStartArray("enabledHostNames");
        writer.WriteStringValue(defaultHost);
        writer.WriteStringValue(app.ScmHostName);
        writer.WriteEndArray();
        writer.WriteStartArray("hostNameSslStates");
        WriteHostNameSslState(writer, defaultHost, "Standard");
        WriteHostNameSslState(writer, app.ScmHostName, "Repository");
        writer.WriteEndArray();
        writer.WriteString("defaultHostName", defaultHost);
        writer.WriteString("resourceGroup", app.ResourceGroup);
        writer.WriteString("kind", app.Kind);
        writer.WriteBoolean("httpsOnly", true);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteHostNameSslState(Utf8JsonWriter writer, string name, string hostType)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("sslState", "Disabled");
        writer.WriteNull("thumbprint");
        writer.WriteString("hostType", hostType);
        writer.WriteEndObject();
    }

    private static void WriteSettings(Utf8JsonWriter writer, AppServiceApp app, IReadOnlyDictionary<string, string> settings)
    {
        writer.WriteStartObject();
        writer.WriteString("id", app.ResourceId + "/config/appsettings");
        writer.WriteString("name", "appsettings");
        writer.WriteString("type", "Microsoft.Web/sites/config");
        writer.WriteString("location", "West Europe");
        writer.WriteStartObject("properties");
        foreach (var (name, value) in settings)
        {
            writer.WriteString(name, value);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static async Task<byte[]> ReadBodyAsync(Call call)
    {
        using var buffer = new MemoryStream();
        await call.Context.Request.Body.CopyToAsync(buffer, call.Context.RequestAborted).ConfigureAwait(false);
        call.RequestBytes = buffer.Length;
        return buffer.ToArray();
    }

    private static Task ErrorAsync(Call call, int status, string code, string message) =>
        JsonAsync(call, status, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });

    private static async Task JsonAsync(Call call, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        var response = call.Context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, call.Context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task TextAsync(Call call, int status, string contentType, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var response = call.Context.Response;
        response.StatusCode = status;
        response.ContentType = contentType + "; charset=utf-8";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, call.Context.RequestAborted).ConfigureAwait(false);
    }

    private sealed class Call(HttpContext context, DateTimeOffset at, long sequence)
    {
        public HttpContext Context { get; } = context;

        public DateTimeOffset At { get; } = at;

        public long Sequence { get; } = sequence;

        public bool IsScm { get; set; }

        public AppServiceRoute Route { get; set; }

        public AppServiceApp? App { get; set; }

        public string? AppName { get; set; }

        public string? Token { get; set; }

        public string? Audience { get; set; }

        public DateTimeOffset? Expires { get; set; }

        public long RequestBytes { get; set; }

        public bool Dropped { get; set; }
    }
}
