using IoMT.Deployment.Operations;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the IoMT.Deployment operator console (API and dashboard) into a host.</summary>
public static class OperationsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the operator console under <paramref name="prefix"/>: the dashboard (<c>{prefix}/</c>, anonymous static files
    /// holding no data), a liveness probe (<c>{prefix}/healthz</c>, anonymous), the read API (<c>{prefix}/api/…</c>, reader or
    /// operator role) and the actions (operator role). Needs <c>services.AddIoMTOperations(…)</c> and <c>AddIoMTDeployment()</c>.
    /// </summary>
    /// <param name="endpoints">The host's endpoints.</param>
    /// <param name="prefix">Where the console lives, such as <c>/operations</c>.</param>
    /// <returns>The console's route group, for further conventions (rate limiting, CORS, host filtering).</returns>
    public static RouteGroupBuilder MapIoMTOperations(this IEndpointRouteBuilder endpoints, string prefix = "/operations")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (!prefix.StartsWith('/'))
        {
            throw new ArgumentException($"The console's prefix must start with '/'; got '{prefix}'.", nameof(prefix));
        }

        var console = endpoints.MapGroup(prefix.TrimEnd('/'));
        console.MapGet("/healthz", () => TypedResults.Text("Healthy")).AllowAnonymous().WithName("IoMTOperations.Liveness");
        ConsoleAssets.Map(console);

        var api = console.MapGroup("/api")
            .RequireAuthorization(OperationsOptions.ReadPolicy)
            .AddEndpointFilter<OperationsFilter>()
            .WithTags("IoMT operations");
        api.MapGet("/me", OperationsEndpoints.Me);
        api.MapGet("/status", OperationsEndpoints.StatusAsync);
        api.MapGet("/rollout", OperationsEndpoints.RolloutAsync);
        api.MapGet("/history", OperationsEndpoints.HistoryAsync);
        api.MapGet("/fleet", OperationsEndpoints.FleetAsync);
        api.MapGet("/pins", OperationsEndpoints.PinsAsync);

        var act = api.MapGroup(string.Empty).RequireAuthorization(OperationsOptions.OperatePolicy);
        act.MapPost("/rollout/pause", OperationsEndpoints.PauseAsync).WithMetadata(new OperatorActionMetadata("pause"));
        act.MapPost("/rollout/resume", OperationsEndpoints.ResumeAsync).WithMetadata(new OperatorActionMetadata("resume"));
        act.MapPost("/rollout/promote", OperationsEndpoints.PromoteAsync).WithMetadata(new OperatorActionMetadata("promote"));
        act.MapPost("/rollout/abort", OperationsEndpoints.AbortAsync).WithMetadata(new OperatorActionMetadata("abort"));
        act.MapPost("/rollback", OperationsEndpoints.RollbackAsync).WithMetadata(new OperatorActionMetadata("rollback"));
        act.MapPost("/builds/{build}/invalidate", OperationsEndpoints.InvalidateAsync).WithMetadata(new OperatorActionMetadata("invalidate", "build"));
        act.MapPost("/builds/{build}/reinstate", OperationsEndpoints.ReinstateAsync).WithMetadata(new OperatorActionMetadata("reinstate", "build"));
        act.MapPut("/pins/{connector}", OperationsEndpoints.PinAsync).WithMetadata(new OperatorActionMetadata("pin", "connector"));
        act.MapDelete("/pins/{connector}", OperationsEndpoints.UnpinAsync).WithMetadata(new OperatorActionMetadata("unpin", "connector"));
        return console;
    }
}
