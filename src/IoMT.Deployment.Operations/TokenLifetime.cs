using Microsoft.IdentityModel.Tokens;

namespace IoMT.Deployment.Operations;

/// <summary>
/// Token lifetime judged by the host's <see cref="TimeProvider"/> (the same clock the engine records commands with),
/// not the machine clock the token handler reads by default; the rules are the handler's: <c>exp</c> required, clock skew allowed.
/// </summary>
internal static class TokenLifetime
{
    /// <summary>Validates a token's lifetime.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="notBefore">The token's <c>nbf</c>.</param>
    /// <param name="expires">The token's <c>exp</c>.</param>
    /// <param name="parameters">The validation parameters (clock skew, whether lifetime is validated).</param>
    /// <returns><see langword="true"/> when valid.</returns>
    /// <exception cref="SecurityTokenNoExpirationException">The token has no <c>exp</c>.</exception>
    /// <exception cref="SecurityTokenNotYetValidException">The token is not valid yet.</exception>
    /// <exception cref="SecurityTokenExpiredException">The token expired.</exception>
    public static bool Validate(TimeProvider time, DateTime? notBefore, DateTime? expires, TokenValidationParameters parameters)
    {
        if (!parameters.ValidateLifetime)
        {
            return true;
        }

        if (expires is not { } exp)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiration time (exp).");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var skew = parameters.ClockSkew;
        if (notBefore is { } nbf && nbf > now.Add(skew))
        {
            throw new SecurityTokenNotYetValidException($"The token is not valid before {nbf:u}.") { NotBefore = nbf };
        }

        if (exp < now.Subtract(skew))
        {
            throw new SecurityTokenExpiredException($"The token expired at {exp:u}.") { Expires = exp };
        }

        return true;
    }
}
