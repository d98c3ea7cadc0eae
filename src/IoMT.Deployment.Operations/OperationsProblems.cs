using IoMT.Deployment.Operations.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Operations;

/// <summary>Names an action endpoint for the log: what it does and which route value is its target.</summary>
/// <param name="Name">The action, such as <c>pause</c>.</param>
/// <param name="TargetRouteValue">The route value naming the target (<c>build</c>, <c>connector</c>), or <see langword="null"/> for the rollout.</param>
internal sealed record OperatorActionMetadata(string Name, string? TargetRouteValue = null);

/// <summary>
/// Every console API call passes here: it takes the actor from the token (refusing a token without an object id), logs
/// every action with actor and target, and turns the engine's domain failures into RFC 9457 problem details with the
/// engine's message, as the CLI turns them into exit codes.
/// </summary>
internal sealed partial class OperationsFilter(ILogger<OperationsFilter> logger) : IEndpointFilter
{
    /// <summary>The key of the caller's <see cref="OperatorIdentity"/> in <see cref="HttpContext.Items"/>.</summary>
    public static readonly object IdentityKey = new();

    /// <inheritdoc/>
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var endpoint = http.GetEndpoint()?.DisplayName ?? http.Request.Path.ToString();
        var identity = OperatorIdentity.Of(http.User);
        if (identity is null)
        {
            Log.NoActor(logger, endpoint);
            return Problem(StatusCodes.Status403Forbidden, "No actor in the token", "The token names no object id (oid or sub): the console records every action under the caller's identity and cannot without one.", "noActor");
        }

        http.Items[IdentityKey] = identity;
        var action = http.GetEndpoint()?.Metadata.GetMetadata<OperatorActionMetadata>();
        var target = action?.TargetRouteValue is { } key ? $"{key} {http.Request.RouteValues[key]}" : "rollout";
        try
        {
            var result = await next(context).ConfigureAwait(false);
            if (action is not null)
            {
                var reason = context.Arguments.OfType<IReasoned>().FirstOrDefault()?.Reason;
                Log.ActionSucceeded(logger, action.Name, target, identity.Actor, (result as IActionOutcome)?.Message ?? "done", string.IsNullOrWhiteSpace(reason) ? "none given" : reason);
            }

            return result;
        }
        catch (Exception ex) when (Classify(ex) is { } problem && !(ex is OperationCanceledException && http.RequestAborted.IsCancellationRequested))
        {
            if (problem.Status >= 500)
            {
                Log.RequestFailed(logger, ex, endpoint, identity.Actor, problem.Status);
            }
            else if (action is not null)
            {
                Log.ActionRefused(logger, action.Name, target, identity.Actor, problem.Status, ex.Message);
            }

            if (ex is StoreThrottledException { RetryAfter: { } wait })
            {
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Problem(problem.Status, problem.Title, problem.Detail, problem.Error);
        }
    }

    /// <summary>A problem to answer, as classified from an exception.</summary>
    internal sealed record Classified(int Status, string Title, string Detail, string Error);

    /// <summary>
    /// Maps an exception to its problem, like the CLI's exit codes: bad input 422, conflict 409, not found 404, a store that
    /// cannot be reached or throttles 503, a store that refuses the server's own identity 502 (the caller's token is fine:
    /// 403 would tell them otherwise), any other domain failure 500 with its message, anything else 500 without details.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The problem.</returns>
    internal static Classified Classify(Exception exception) => exception switch
    {
        OperationsRequestException bad => new(StatusCodes.Status422UnprocessableEntity, "The request is not valid", bad.Message, "badInput"),
        ArgumentException or InvalidPackageException or OptionsValidationException => new(StatusCodes.Status422UnprocessableEntity, "The request is not valid", exception.Message, "badInput"),
        ArtifactConflictException or VersionStateConflictException or RolloutLockHeldException or BuildInvalidatedException or RolloutNotActiveException
            => new(StatusCodes.Status409Conflict, "Conflict", exception.Message, ErrorName(exception)),
        BuildNotFoundException or ConnectorNotFoundException or ArtifactStoreException { IsMissing: true }
            => new(StatusCodes.Status404NotFound, "Not found", exception.Message, ErrorName(exception)),
        StoreUnavailableException or StoreThrottledException => new(StatusCodes.Status503ServiceUnavailable, "A store is unavailable", exception.Message, ErrorName(exception)),
        StoreAccessDeniedException => new(StatusCodes.Status502BadGateway, "A store refused the service's identity", exception.Message, ErrorName(exception)),
        DeploymentException => new(StatusCodes.Status500InternalServerError, "The operation failed", exception.Message, ErrorName(exception)),
        _ => new(StatusCodes.Status500InternalServerError, "Unexpected error", "The operation failed unexpectedly; the server's log has the details.", "unexpected"),
    };

    private static string ErrorName(Exception exception)
    {
        var name = exception.GetType().Name;
        name = name.EndsWith("Exception", StringComparison.Ordinal) ? name[..^"Exception".Length] : name;
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(int status, string title, string detail, string error) =>
        TypedResults.Problem(detail, statusCode: status, title: title, extensions: new Dictionary<string, object?> { ["error"] = error });
}

/// <summary>Bad input the console itself detects (a missing reason, an unparseable build); answered 422 with its message.</summary>
internal sealed class OperationsRequestException(string message) : Exception(message);
