using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Azure.Core;

namespace IoMT.Deployment.Loopback;

/// <summary>
/// A credential for the loopback host: it mints unsigned test JWTs whose audience is the requested scope without
/// <c>/.default</c> (<c>https://management.azure.com</c>, <c>https://management.core.windows.net</c>), so the host can
/// tell which scope each call used. Never valid anywhere else.
/// </summary>
public sealed class LoopbackTokenCredential : TokenCredential
{
    private readonly ConcurrentQueue<string> _issued = new();
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Creates the credential.</summary>
    /// <param name="timeProvider">The clock for the tokens' validity; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public LoopbackTokenCredential(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets every token minted so far, so tests can check none leaked into logs or messages.</summary>
    public IReadOnlyCollection<string> IssuedTokens => [.. _issued];

    /// <summary>Gets how many tokens were requested per scope.</summary>
    public IReadOnlyDictionary<string, int> RequestsByScope => new Dictionary<string, int>(_requests);

    /// <inheritdoc/>
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var scope = requestContext.Scopes.Length > 0 ? requestContext.Scopes[0] : string.Empty;
        _requests.AddOrUpdate(scope, 1, static (_, n) => n + 1);
        var audience = scope.EndsWith("/.default", StringComparison.Ordinal) ? scope[..^"/.default".Length] : scope;
        var now = _time.GetUtcNow();
        var expires = now.AddHours(1);
        var token = TestJwt.Create(audience, now, expires);
        _issued.Enqueue(token);
        return new AccessToken(token, expires);
    }

    /// <inheritdoc/>
    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}

/// <summary>Unsigned JWTs (<c>alg: none</c>) for the loopback host.</summary>
public static class TestJwt
{
    /// <summary>Creates a token for an audience.</summary>
    /// <param name="audience">The <c>aud</c> claim.</param>
    /// <param name="notBefore">The <c>nbf</c> and <c>iat</c> claims.</param>
    /// <param name="expires">The <c>exp</c> claim.</param>
    /// <returns>The token, <c>header.payload.</c>.</returns>
    public static string Create(string audience, DateTimeOffset notBefore, DateTimeOffset expires)
    {
        ArgumentNullException.ThrowIfNull(audience);
        var header = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "none", ["typ"] = "JWT" }));
        var payload = Encode(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["aud"] = audience,
            ["iss"] = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
            ["nbf"] = notBefore.ToUnixTimeSeconds(),
            ["iat"] = notBefore.ToUnixTimeSeconds(),
            ["exp"] = expires.ToUnixTimeSeconds(),
            ["oid"] = "11111111-1111-1111-1111-111111111111",
            ["jti"] = Guid.NewGuid().ToString("N"),
        }));
        return header + "." + payload + ".";
    }

    /// <summary>Reads the audience and expiry of a JWT without checking any signature.</summary>
    /// <param name="token">The token.</param>
    /// <param name="audience">The <c>aud</c> claim.</param>
    /// <param name="expires">The <c>exp</c> claim, when present.</param>
    /// <returns><see langword="true"/> when the token is a JWT with an audience.</returns>
    public static bool TryRead(string token, out string? audience, out DateTimeOffset? expires)
    {
        audience = null;
        expires = null;
        var parts = token?.Split('.') ?? [];
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(Decode(parts[1]));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (root.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var seconds))
            {
                expires = DateTimeOffset.FromUnixTimeSeconds(seconds);
            }

            audience = root.TryGetProperty("aud", out var aud) && aud.ValueKind == JsonValueKind.String ? aud.GetString() : null;
            return audience is not null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return false;
        }
    }

    private static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Decode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", _ => string.Empty };
        return Convert.FromBase64String(s);
    }
}
