using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Operations;

/// <summary>The console's API handlers: each reads through, or acts through, the same engine calls as the CLI.</summary>
internal static class OperationsEndpoints
{
    /// <summary>The most stragglers listed by name; the count is always complete.</summary>
    internal const int MaxStragglersListed = 200;

    public static MeResponse Me(HttpContext http, IOptions<OperationsOptions> options)
    {
        var identity = IdentityOf(http);
        return new MeResponse(identity.Actor, identity.Name, identity.ObjectId, http.User.IsInRole(options.Value.OperatorRole), options.Value.RefreshSeconds);
    }

    public static async Task<StatusResponse> StatusAsync(IRolloutEngine engine, TimeProvider time, CancellationToken cancellationToken)
    {
        var status = await engine.GetStatusAsync(includeFleet: false, cancellationToken).ConfigureAwait(false);
        var state = status.State;
        return new StatusResponse(
            state.Current?.ToString(),
            state.InFlight?.ToString(),
            status.Candidate?.ToString(),
            state.UpdatedAt,
            state.Rollout?.Status.ToString(),
            [.. status.Builds.Select(b => new BuildResponse(
                b.Artifact.Build.ToString(),
                b.Artifact.Size,
                b.Artifact.Sha256,
                b.Artifact.LastModified,
                b.Artifact.Build == state.Current,
                b.Artifact.Build == state.InFlight,
                b.Artifact.Build == status.Candidate,
                b.Invalidation))],
            state.Invalidated,
            time.GetUtcNow());
    }

    public static async Task<RolloutResponse> RolloutAsync(IVersionStore versions, TimeProvider time, CancellationToken cancellationToken)
    {
        var state = (await versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
        return new RolloutResponse(state.Rollout, state.Rollout?.IsActive ?? false, time.GetUtcNow());
    }

    public static async Task<IReadOnlyList<RolloutHistoryEntry>> HistoryAsync(IVersionStore versions, int? limit, CancellationToken cancellationToken)
    {
        var count = limit ?? 20;
        if (count is < 1 or > 100)
        {
            throw new OperationsRequestException($"limit must be between 1 and 100; got {count}.");
        }

        return await versions.ReadHistoryAsync(count, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<FleetResponse> FleetAsync(IRolloutEngine engine, IVersionStore versions, CancellationToken cancellationToken)
    {
        var state = (await versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
        var fleet = await engine.VerifyAsync(cancellationToken).ConfigureAwait(false);
        var current = fleet.Expected?.ToString();
        var target = state.Rollout is { IsActive: true } r ? r.Target.ToString() : state.InFlight?.ToString();
        var present = fleet.Connectors.Where(c => c.Outcome is not (VerificationOutcome.Deleted or VerificationOutcome.Excluded)).ToList();
        var versions2 = present
            .GroupBy(c => c.ProjectVersion, StringComparer.Ordinal)
            .Select(g => new VersionCount(g.Key, g.Count(), g.Key is not null && g.Key == current, g.Key is not null && g.Key == target))
            .OrderByDescending(v => v.Version is { } s && BuildNumber.TryParse(s, out var b) ? (BuildNumber?)b : null)
            .ThenBy(v => v.Version, StringComparer.Ordinal)
            .ToList();
        var stragglers = present
            .Where(c => c.Outcome == VerificationOutcome.Mismatch && (c.ProjectVersion is null || c.ProjectVersion != target))
            .Select(c => new Straggler(c.Connector.Id, c.ProjectVersion, state.PinOf(c.Connector.Id)?.Build?.ToString(), c.Error))
            .ToList();
        return new FleetResponse(
            current,
            target,
            present.Count,
            versions2,
            fleet.Connectors.Count(c => c.Outcome == VerificationOutcome.Excluded),
            fleet.Connectors.Count(c => c.Outcome == VerificationOutcome.Deleted),
            stragglers.Count,
            [.. stragglers.Take(MaxStragglersListed)]);
    }

    public static async Task<IReadOnlyList<PinResponse>> PinsAsync(IVersionStore versions, CancellationToken cancellationToken)
    {
        var state = (await versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
        return [.. state.Pins.OrderBy(p => p.Connector, StringComparer.Ordinal).Select(PinResponse.Of)];
    }

    public static Task<CommandResponse> PauseAsync(HttpContext http, IRolloutEngine engine, ReasonBody? body, CancellationToken cancellationToken) =>
        CommandAsync(http, engine, OperatorAction.Pause, RequireReason(body?.Reason, "pause a rollout"), cancellationToken);

    public static Task<CommandResponse> ResumeAsync(HttpContext http, IRolloutEngine engine, ReasonBody? body, CancellationToken cancellationToken) =>
        CommandAsync(http, engine, OperatorAction.Resume, Trimmed(body?.Reason), cancellationToken);

    public static Task<CommandResponse> PromoteAsync(HttpContext http, IRolloutEngine engine, PromoteBody? body, CancellationToken cancellationToken) =>
        CommandAsync(http, engine, body?.Full == true ? OperatorAction.PromoteFull : OperatorAction.Promote, Trimmed(body?.Reason), cancellationToken);

    public static Task<CommandResponse> AbortAsync(HttpContext http, IRolloutEngine engine, ReasonBody? body, CancellationToken cancellationToken) =>
        CommandAsync(http, engine, OperatorAction.Abort, RequireReason(body?.Reason, "abort a rollout"), cancellationToken);

    /// <summary>
    /// Runs the rollback to its end. It is not cancelled when the caller disconnects (a half-done rollback stays in flight
    /// until the next run); only the host's shutdown stops it.
    /// </summary>
    public static async Task<RollbackResponse> RollbackAsync(HttpContext http, IRolloutEngine engine, IHostApplicationLifetime lifetime, RollbackBody? body)
    {
        var reason = RequireReason(body?.Reason, "roll back");
        var to = string.IsNullOrWhiteSpace(body?.To) ? (BuildNumber?)null : ParseBuild(body!.To!);
        var report = await engine.RollbackAsync(new RollbackRequest(reason, IdentityOf(http).Actor, to), progress: null, lifetime.ApplicationStopping).ConfigureAwait(false);
        var message = $"Rolled back from build {report.From?.ToString() ?? "none"} to build {report.Target}: " + (report.Succeeded ? "every connector verified." : "not every connector verified; the next run retries.");
        return new RollbackResponse(message, report.RolloutId, report.From?.ToString(), report.Target.ToString(), report.Succeeded, report.StopReason, report.Totals(), report.Rollout);
    }

    public static async Task<ChangeResponse> InvalidateAsync(HttpContext http, IRolloutEngine engine, string build, ReasonBody? body, CancellationToken cancellationToken)
    {
        var number = ParseBuild(build);
        var reason = RequireReason(body?.Reason, "invalidate a build");
        var actor = IdentityOf(http).Actor;
        var changed = await engine.InvalidateAsync(number, reason, actor, cancellationToken).ConfigureAwait(false);
        return new ChangeResponse(changed ? $"Build {number} is invalidated." : $"Build {number} was already invalidated.", number.ToString(), changed, actor);
    }

    public static async Task<ChangeResponse> ReinstateAsync(HttpContext http, IRolloutEngine engine, string build, ReasonBody? body, CancellationToken cancellationToken)
    {
        _ = body;
        var number = ParseBuild(build);
        var actor = IdentityOf(http).Actor;
        var changed = await engine.ReinstateAsync(number, actor, cancellationToken).ConfigureAwait(false);
        return new ChangeResponse(changed ? $"Build {number} is valid again." : $"Build {number} was not invalidated.", number.ToString(), changed, actor);
    }

    public static async Task<PinActionResponse> PinAsync(HttpContext http, IRolloutEngine engine, string connector, PinBody? body, CancellationToken cancellationToken)
    {
        var reason = RequireReason(body?.Reason, "pin a connector");
        BuildNumber? build = null;
        if (body!.Exclude)
        {
            if (!string.IsNullOrWhiteSpace(body.Build))
            {
                throw new OperationsRequestException("Give either a build to pin the connector to or exclude: true, not both.");
            }
        }
        else
        {
            build = string.IsNullOrWhiteSpace(body.Build)
                ? throw new OperationsRequestException("A build is required to pin a connector (or exclude: true to exclude it from rollouts).")
                : ParseBuild(body.Build);
        }

        var pin = await engine.PinAsync(connector, build, reason, IdentityOf(http).Actor, cancellationToken).ConfigureAwait(false);
        return new PinActionResponse(build is null ? $"Connector '{connector}' is excluded from rollouts." : $"Connector '{connector}' is pinned to build {build}.", PinResponse.Of(pin));
    }

    public static async Task<ChangeResponse> UnpinAsync(HttpContext http, IRolloutEngine engine, string connector, CancellationToken cancellationToken)
    {
        var actor = IdentityOf(http).Actor;
        var changed = await engine.UnpinAsync(connector, actor, cancellationToken).ConfigureAwait(false);
        return new ChangeResponse(changed ? $"Connector '{connector}' is no longer pinned." : $"Connector '{connector}' was not pinned.", connector, changed, actor);
    }

    private static async Task<CommandResponse> CommandAsync(HttpContext http, IRolloutEngine engine, OperatorAction action, string? reason, CancellationToken cancellationToken)
    {
        var actor = IdentityOf(http).Actor;
        var rollout = await engine.CommandAsync(action, actor, reason, cancellationToken).ConfigureAwait(false);
        return new CommandResponse($"Rollout {rollout.Id} to build {rollout.Target}: {action} recorded; status {rollout.Status}.", action.ToString(), actor, reason, rollout);
    }

    private static OperatorIdentity IdentityOf(HttpContext http) =>
        http.Items[OperationsFilter.IdentityKey] as OperatorIdentity ?? throw new InvalidOperationException("The operations filter did not run for this endpoint.");

    private static string RequireReason(string? reason, string what) =>
        Trimmed(reason) ?? throw new OperationsRequestException($"A reason is required to {what}: send {{\"reason\": \"…\"}}.");

    private static string? Trimmed(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static BuildNumber ParseBuild(string text) =>
        BuildNumber.TryParse(text, out var build)
            ? build
            : throw new OperationsRequestException($"'{text}' is not a build number: dot-separated non-negative integers without leading zeros, such as 20201105.3.");
}
