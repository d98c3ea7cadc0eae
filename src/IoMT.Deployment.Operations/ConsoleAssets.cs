using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Operations;

/// <summary>
/// The dashboard's static files, embedded in the assembly (no build step, no file system): served anonymously because
/// they hold no data; every number on the page comes from the authenticated API.
/// </summary>
internal static class ConsoleAssets
{
    private const string ResourcePrefix = "IoMT.Deployment.Operations.wwwroot.";

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    /// <summary>Maps the dashboard's files and its anonymous settings (token endpoint, refresh period).</summary>
    /// <param name="console">The console's route group.</param>
    public static void Map(RouteGroupBuilder console)
    {
        console.MapGet("/", (HttpContext http) =>
        {
            // The page uses relative URLs: it must be addressed with its trailing slash.
            if (!http.Request.Path.Value!.EndsWith('/'))
            {
                return Results.Redirect(http.Request.PathBase + http.Request.Path + "/" + http.Request.QueryString);
            }

            return Serve(http, "index.html");
        }).AllowAnonymous().ExcludeFromDescription();
        console.MapGet("/console.js", (HttpContext http) => Serve(http, "console.js")).AllowAnonymous().ExcludeFromDescription();
        console.MapGet("/console.css", (HttpContext http) => Serve(http, "console.css")).AllowAnonymous().ExcludeFromDescription();
        console.MapGet("/settings.json", (IOptions<OperationsOptions> options) =>
            TypedResults.Json(new { tokenEndpoint = options.Value.TokenEndpoint, refreshSeconds = options.Value.RefreshSeconds }))
            .AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext http, string name)
    {
        var asset = Assets[name];
        var headers = http.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        if (name == "index.html")
        {
            headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            headers["Referrer-Policy"] = "no-referrer";
        }

        if (http.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var name = resource[ResourcePrefix.Length..];
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            assets[name] = new Asset(content, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
