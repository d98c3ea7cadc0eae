using System.Security.Claims;

namespace IoMT.Deployment.Operations;

/// <summary>
/// Who acts, taken from the validated token only (never from a request body): the display name and the Entra object id.
/// </summary>
/// <param name="Name">The token's <c>name</c> (or <c>preferred_username</c>, <c>upn</c>, <c>appid</c>/<c>azp</c> for an application).</param>
/// <param name="ObjectId">The token's <c>oid</c> (or <c>sub</c> when a non-Entra issuer sends no <c>oid</c>).</param>
internal sealed record OperatorIdentity(string Name, string ObjectId)
{
    /// <summary>The claim carrying the display name (claims are not mapped to WS-* names).</summary>
    public const string NameClaim = "name";

    /// <summary>The claim carrying the app roles.</summary>
    public const string RolesClaim = "roles";

    /// <summary>Gets the actor recorded by the engine: <c>name (oid)</c>.</summary>
    public string Actor => $"{Name} ({ObjectId})";

    /// <summary>Reads the identity of a signed-in user.</summary>
    /// <param name="user">The user.</param>
    /// <returns>The identity, or <see langword="null"/> when the token names no object id.</returns>
    public static OperatorIdentity? Of(ClaimsPrincipal user)
    {
        var objectId = First(user, "oid", "sub");
        if (objectId is null)
        {
            return null;
        }

        return new OperatorIdentity(First(user, NameClaim, "preferred_username", "upn", "appid", "azp") ?? objectId, objectId);
    }

    private static string? First(ClaimsPrincipal user, params string[] types)
    {
        foreach (var type in types)
        {
            var value = user.FindFirst(type)?.Value;
            if (!string.IsNullOrWhiteSpace(value))
            {
                return value.Trim();
            }
        }

        return null;
    }
}
