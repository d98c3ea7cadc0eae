using IoMT.Deployment.Composition;
using IoMT.Deployment.Operations;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Composes the IoMT.Deployment operator console into an ASP.NET Core host.</summary>
public static class OperationsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the operator console's services: its options (from <paramref name="configuration"/>'s <c>IoMTOperations</c>
    /// section, validated at start-up), JWT bearer authentication under the <see cref="OperationsOptions.AuthenticationScheme"/>
    /// scheme, the reader and operator policies, and problem details. The rollout engine itself comes from
    /// <c>AddIoMTDeployment()</c>. Map the endpoints with <c>app.MapIoMTOperations()</c>. Calling it twice is harmless.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding the <c>IoMTOperations</c> section (or the section itself).</param>
    /// <param name="configureJwtBearer">Adjusts the JWT bearer options after the console set them, such as signing keys for a development issuer.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddIoMTOperations(this IServiceCollection services, IConfiguration configuration, Action<JwtBearerOptions>? configureJwtBearer = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(OperationsMarker)))
        {
            return services;
        }

        services.AddSingleton<OperationsMarker>();
        services.TryAddSingleton(TimeProvider.System);
        var section = configuration.GetSection(OperationsOptions.SectionName);
        services.AddOptions<OperationsOptions>()
            .Bind(section.Exists() ? section : configuration)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OperationsOptions>, DeploymentOptionsValidator<OperationsOptions>>());

        services.AddAuthentication().AddJwtBearer(OperationsOptions.AuthenticationScheme, _ => { });
        var jwt = services.AddOptions<JwtBearerOptions>(OperationsOptions.AuthenticationScheme)
            .Configure<IOptions<OperationsOptions>, TimeProvider>((bearer, options, time) =>
            {
                var o = options.Value;
                bearer.TimeProvider = time;
                bearer.TokenValidationParameters.LifetimeValidator = (notBefore, expires, _, parameters) => TokenLifetime.Validate(time, notBefore, expires, parameters);
                bearer.Authority = string.IsNullOrWhiteSpace(o.Authority) ? null : o.Authority;
                bearer.Audience = o.Audience;
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters.ValidAudience = o.Audience;
                bearer.TokenValidationParameters.NameClaimType = OperatorIdentity.NameClaim;
                bearer.TokenValidationParameters.RoleClaimType = OperatorIdentity.RolesClaim;
            });
        if (configureJwtBearer is not null)
        {
            jwt.Configure(configureJwtBearer);
        }

        jwt.Validate(
            bearer => bearer.Authority is not null || bearer.ConfigurationManager is not null || bearer.Configuration is not null
                || bearer.TokenValidationParameters.IssuerSigningKey is not null || bearer.TokenValidationParameters.IssuerSigningKeys is not null
                || bearer.TokenValidationParameters.IssuerSigningKeyResolver is not null,
            "IoMTOperations:Authority is required: the Entra ID authority that signs the console's tokens, such as https://login.microsoftonline.com/{tenant-id}/v2.0.")
            .ValidateOnStart();

        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<OperationsOptions>>((authorization, options) =>
        {
            var o = options.Value;
            authorization.AddPolicy(OperationsOptions.ReadPolicy, p => p
                .AddAuthenticationSchemes(OperationsOptions.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole(o.ReaderRole, o.OperatorRole));
            authorization.AddPolicy(OperationsOptions.OperatePolicy, p => p
                .AddAuthenticationSchemes(OperationsOptions.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole(o.OperatorRole));
        });

        services.AddProblemDetails();
        return services;
    }

    /// <summary>Marks the console's services as added.</summary>
    private sealed class OperationsMarker;
}
