using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace IoMT.Deployment.Loopback;

/// <summary>A token the host's managed-identity endpoint issued.</summary>
/// <param name="Token">The access token (a test JWT), so tests can check it never reaches an output.</param>
/// <param name="Audience">The <c>resource</c> it was issued for, which is its <c>aud</c>.</param>
/// <param name="ExpiresOn">When it expires.</param>
public sealed record IssuedToken(string Token, string Audience, DateTimeOffset ExpiresOn);

/// <content>
/// The App Service managed-identity protocol (api-version 2019-08-01): <c>GET {ManagedIdentityEndpoint}?resource=…</c>
/// with <c>X-IDENTITY-HEADER</c> answers <c>access_token</c>, <c>expires_on</c>, <c>resource</c>, <c>token_type</c>.
/// A process gets it through the environment variables of <see cref="ManagedIdentityEnvironment"/>.
/// </content>
public sealed partial class AppServiceHost
{
    /// <summary>The path of the managed-identity endpoint on the ARM port.</summary>
    public const string ManagedIdentityPath = "/msi/token";

    /// <summary>The api-version of the App Service managed-identity protocol the endpoint speaks.</summary>
    public const string ManagedIdentityApiVersion = "2019-08-01";

    private readonly ConcurrentQueue<IssuedToken> _issuedTokens = new();

    /// <summary>Gets the secret a caller must send as <c>X-IDENTITY-HEADER</c> (App Service's <c>IDENTITY_HEADER</c>).</summary>
    public string IdentityHeader { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Gets the managed-identity endpoint (App Service's <c>IDENTITY_ENDPOINT</c>), <c>https://127.0.0.1:{port}/msi/token</c>.</summary>
    public Uri ManagedIdentityEndpoint => new(ArmEndpoint, ManagedIdentityPath);

    /// <summary>Gets every token the managed-identity endpoint issued, in order.</summary>
    public IReadOnlyList<IssuedToken> IssuedTokens => [.. _issuedTokens];

    /// <summary>
    /// Gets the environment a process needs to take its tokens from this host's managed-identity endpoint, as in App Service:
    /// <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c>. Add <see cref="ProxyEnvironment"/> for the scm host names, and
    /// <c>SSL_CERT_FILE</c> with <see cref="Certificate"/> so the process trusts the host.
    /// </summary>
    public IReadOnlyDictionary<string, string> ManagedIdentityEnvironment => new Dictionary<string, string>
    {
        ["IDENTITY_ENDPOINT"] = ManagedIdentityEndpoint.AbsoluteUri,
        ["IDENTITY_HEADER"] = IdentityHeader,
    };

    /// <summary>Writes the host's certificate as PEM, for <c>SSL_CERT_FILE</c> (append other test servers' certificates as needed).</summary>
    /// <returns>The PEM text.</returns>
    public string ExportCertificatePem() => _certificate.ExportCertificatePem();

    private static bool IsManagedIdentityRequest(HttpContext context) =>
        string.Equals(context.Request.Path.Value, ManagedIdentityPath, StringComparison.OrdinalIgnoreCase);

    private async Task HandleManagedIdentityAsync(Call call)
    {
        var request = call.Context.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            await ErrorAsync(call, 405, "MethodNotAllowed", "The managed-identity endpoint takes GET only.").ConfigureAwait(false);
            return;
        }

        if (!string.Equals(request.Headers["X-IDENTITY-HEADER"].ToString(), IdentityHeader, StringComparison.Ordinal))
        {
            await ErrorAsync(call, 401, "Unauthorized", "X-IDENTITY-HEADER is missing or wrong.").ConfigureAwait(false);
            return;
        }

        if (!string.Equals(request.Query["api-version"].ToString(), ManagedIdentityApiVersion, StringComparison.Ordinal))
        {
            await ErrorAsync(call, 400, "BadRequest", $"api-version must be {ManagedIdentityApiVersion}.").ConfigureAwait(false);
            return;
        }

        var resource = request.Query["resource"].ToString();
        if (!Uri.TryCreate(resource, UriKind.Absolute, out _))
        {
            await ErrorAsync(call, 400, "BadRequest", "resource must be an absolute URI such as https://management.azure.com.").ConfigureAwait(false);
            return;
        }

        // The audience is the resource as asked, as Entra ID issues it (a trailing slash is kept).
        var now = _time.GetUtcNow();
        var expires = now.AddHours(1);
        var token = TestJwt.Create(resource, now, expires);
        _issuedTokens.Enqueue(new IssuedToken(token, resource, expires));
        call.Audience = resource;
        await JsonAsync(call, 200, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("access_token", token);
            writer.WriteString("expires_on", expires.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("resource", resource);
            writer.WriteString("token_type", "Bearer");
            writer.WriteString("client_id", "22222222-2222-2222-2222-222222222222");
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }
}
