using System.Buffers.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using IoMT.Deployment.Cli.Logging;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Cli.Composition;

/// <summary>
/// Who a command records as its actor: the <c>Actor</c> setting (<c>--actor</c>) when given; with the azure provider, the
/// signed-in principal of the run's credential; otherwise (or when the principal cannot be read) the operating-system user.
/// </summary>
internal static class SignedInActor
{
    /// <summary>The scope the token is asked for: any works (only its claims are read), ARM is one every principal can ask for.</summary>
    public const string Scope = "https://management.azure.com/.default";

    // The claims that name a principal, most readable first: users (v1 upn/unique_name, v2 preferred_username), then
    // applications and managed identities (v1 appid, v2 azp), then the object id every token carries.
    private static readonly string[] NameClaims = ["upn", "unique_name", "preferred_username", "appid", "azp", "oid", "sub"];

    /// <summary>Resolves the actor.</summary>
    /// <param name="settings">The settings: the explicit actor, the provider, the operating-system user.</param>
    /// <param name="credential">The azure provider's credential, or <see langword="null"/>.</param>
    /// <param name="logger">Logs why the principal could not be read.</param>
    /// <param name="timeout">How long signing in may take before the operating-system user is recorded instead.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The actor.</returns>
    public static async Task<string> ResolveAsync(CliSettings settings, TokenCredential? credential, ILogger logger, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        if (settings.ActorIsExplicit || settings.Provider != CliSettings.AzureProvider || credential is null)
        {
            return settings.Actor;
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var token = await credential.GetTokenAsync(new TokenRequestContext([Scope]), limit.Token).ConfigureAwait(false);
            if (NameOf(token.Token) is { } name)
            {
                return name;
            }

            Log.PrincipalUnknown(logger, "the access token names no principal", settings.Actor);
        }
        catch (AuthenticationFailedException ex)
        {
            Log.PrincipalUnknown(logger, ex.Message, settings.Actor);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Log.PrincipalUnknown(logger, $"signing in took longer than {timeout.TotalSeconds:0} s", settings.Actor);
        }

        return settings.Actor;
    }

    /// <summary>Reads the principal's name from an access token's claims, without validating it (it is only used to name the actor).</summary>
    /// <param name="accessToken">A JWT.</param>
    /// <returns>The first of <c>upn</c>, <c>unique_name</c>, <c>preferred_username</c>, <c>appid</c>, <c>azp</c>, <c>oid</c>, <c>sub</c>; <see langword="null"/> when the token is not a JWT or names none.</returns>
    public static string? NameOf(string accessToken)
    {
        var parts = accessToken?.Split('.') ?? [];
        if (parts.Length != 3 || parts[1].Length == 0)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            if (payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var claim in NameClaims)
            {
                if (payload.RootElement.TryGetProperty(claim, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()))
                {
                    return value.GetString()!.Trim();
                }
            }
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            // Not a JWT (an opaque token): the caller records the operating-system user.
        }

        return null;
    }
}
