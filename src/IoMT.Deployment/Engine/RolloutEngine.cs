using System.Diagnostics;
using System.Text;
using IoMT.Deployment.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment;

/// <summary>The rollout engine. Thread-safe; one instance serves the host.</summary>
public sealed partial class RolloutEngine : IRolloutEngine
{
    private readonly IArtifactSource _artifacts;
    private readonly IVersionStore _versions;
    private readonly IConnectorInventory _inventory;
    private readonly IConnectorDeployer _deployer;
    private readonly IRolloutLock _lock;
    private readonly IRolloutPolicy _policy;
    private readonly RolloutOptions _options;
    private readonly TimeProvider _time;
    private readonly DeploymentMetrics _metrics;
    private readonly ILogger<RolloutEngine> _logger;
    private readonly List<IConnectorHealthSignal> _healthSignals;
    private readonly IDeploymentLimits? _limits;
    private readonly WavePlanner _planner;
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Creates the engine.</summary>
    /// <param name="artifacts">The artifact container's read side.</param>
    /// <param name="versions">The version store.</param>
    /// <param name="inventory">The connector inventory.</param>
    /// <param name="deployer">The connector deployer.</param>
    /// <param name="rolloutLock">The one-active-rollout lock.</param>
    /// <param name="policy">The rollout policy.</param>
    /// <param name="options">The rollout options.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="metrics">The metrics.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="healthSignals">The health signals the wave gates read; none: every gate that asks for health gets no data and pauses.</param>
    /// <param name="limits">The platform's limits a plan's estimate respects (<see cref="RolloutPlan.Limits"/>), or <see langword="null"/>.</param>
    public RolloutEngine(
        IArtifactSource artifacts,
        IVersionStore versions,
        IConnectorInventory inventory,
        IConnectorDeployer deployer,
        IRolloutLock rolloutLock,
        IRolloutPolicy policy,
        IOptions<RolloutOptions> options,
        TimeProvider timeProvider,
        DeploymentMetrics metrics,
        ILogger<RolloutEngine> logger,
        IEnumerable<IConnectorHealthSignal>? healthSignals = null,
        IDeploymentLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(versions);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(deployer);
        ArgumentNullException.ThrowIfNull(rolloutLock);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _artifacts = artifacts;
        _versions = versions;
        _inventory = inventory;
        _deployer = deployer;
        _lock = rolloutLock;
        _policy = policy;
        _options = options.Value;
        _time = timeProvider;
        _metrics = metrics;
        _logger = logger;
        _healthSignals = healthSignals?.ToList() ?? [];
        _limits = limits;
        _planner = new WavePlanner(_options);
    }

    /// <inheritdoc/>
    public Task<RolloutReport> UpdateAsync(IProgress<ConnectorResult>? progress = null, CancellationToken cancellationToken = default) =>
        UnderLockAsync("update", token => UpdateCoreAsync(progress, token), cancellationToken);

    /// <inheritdoc/>
    public async Task<RolloutPlan> PlanUpdateAsync(CancellationToken cancellationToken = default)
    {
        var entry = await _versions.ReadAsync(cancellationToken).ConfigureAwait(false);
        var state = entry.State;
        var builds = await ListBuildsAsync(cancellationToken).ConfigureAwait(false);
        var decision = Decide(state, builds);
        var active = state.Rollout is { IsActive: true } r && !state.IsInvalidated(r.Target) && !(decision.Kind == RolloutKind.Update && decision.Target > r.Target) ? r : null;
        var kind = active is not null ? RolloutKind.Update : decision.Kind;
        var target = active?.Target ?? decision.Target;
        var version = target.ToString();
        var planned = await ReadFleetAsync(
            async (connector, ct) =>
            {
                var wave = _planner.WaveOf(connector);
                string? current;
                try
                {
                    current = await _deployer.GetProjectVersionAsync(connector, ct).ConfigureAwait(false);
                }
                catch (ConnectorNotFoundException)
                {
                    return new PlannedConnector(connector, PlannedAction.SkipDeleted, null, wave);
                }

                var action = state.PinOf(connector.Id) switch
                {
                    { Excluded: true } => PlannedAction.SkipExcluded,
                    not null => PlannedAction.SkipPinned,
                    _ when current == version => PlannedAction.SkipAlreadyCurrent,
                    _ => PlannedAction.Deploy,
                };
                return new PlannedConnector(connector, action, current, wave);
            },
            p => p.Connector.Id,
            cancellationToken).ConfigureAwait(false);

        // The fingerprint covers every listed connector's wave and the pins, as the rollout computes it when it starts.
        var members = Enumerable.Range(0, _planner.Count)
            .Select(i => (IReadOnlyList<string>)[.. planned.Where(p => p.Wave == i).Select(p => p.Connector.Id)])
            .ToList();
        var waves = _planner.Waves.Select((w, i) => new PlannedWave
        {
            Name = w.Name,
            Connectors = [.. planned.Where(p => p.Wave == i && p.Action is not (PlannedAction.SkipPinned or PlannedAction.SkipExcluded)).Select(p => p.Connector.Id)],
            BakeTime = w.BakeTime,
            MaxFailed = w.MaxFailed,
            MaxFailedPercent = w.MaxFailedPercent,
            RequireApproval = w.RequireApproval,
            RequireHealth = w.RequireHealth,
        }).ToList();
        var estimate = TimeSpan.Zero;
        for (var i = 0; i < waves.Count; i++)
        {
            var deploying = planned.Where(p => p.Wave == i && p.Action == PlannedAction.Deploy).Select(p => p.Connector).ToList();
            estimate += WaveEstimate(deploying) + (kind == RolloutKind.Update ? waves[i].BakeTime : TimeSpan.Zero);
        }

        return new RolloutPlan
        {
            Kind = kind,
            Current = state.Current,
            Target = target,
            Connectors = planned,
            Waves = waves,
            Fingerprint = active?.Fingerprint ?? _planner.Fingerprint(target, members, state.Pins),
            EstimatedDuration = estimate,
            Limits = _limits?.Estimate(planned.Where(p => p.Action == PlannedAction.Deploy).Select(p => p.Connector)),
            Active = active,
        };
    }

    /// <summary>
    /// A wave's deployments take the longest of: rounds of <see cref="RolloutOptions.MaxParallelism"/>; per limited scope,
    /// rounds of its concurrent-deployment bound, and the time its requests need under its limits (scopes run side by side).
    /// </summary>
    private TimeSpan WaveEstimate(List<ConnectorTarget> deploying)
    {
        TimeSpan Rounds(int count, int width) => _options.EstimatedConnectorTime * ((count + width - 1) / width);
        var estimate = Rounds(deploying.Count, _options.MaxParallelism);
        if (_limits is null || deploying.Count == 0)
        {
            return estimate;
        }

        foreach (var scope in _limits.Estimate(deploying).Scopes)
        {
            var width = Math.Max(1, Math.Min(scope.MaxConcurrentDeployments, _options.MaxParallelism));
            var bound = Max(Rounds(scope.Connectors, width), scope.Duration);
            estimate = Max(estimate, bound);
        }

        return estimate;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <inheritdoc/>
    public Task<RolloutReport> RollbackAsync(RollbackRequest request, IProgress<ConnectorResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Reason, nameof(request));
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Actor, nameof(request));
        return UnderLockAsync("rollback", token => RollbackCoreAsync(request, progress, token), cancellationToken, ct => AcquireForRollbackAsync(request, ct));
    }

    /// <inheritdoc/>
    public async Task<bool> InvalidateAsync(BuildNumber build, string reason, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var builds = await ListBuildsAsync(cancellationToken, requireAny: false).ConfigureAwait(false);
        if (!builds.Any(b => b.Build == build))
        {
            throw new BuildNotFoundException(build, $"Cannot invalidate build {build}: it is not in the artifact store.");
        }

        var changed = false;
        var now = _time.GetUtcNow();
        await ChangeStateAsync(
            s =>
            {
                changed = !s.IsInvalidated(build);
                return changed ? s.WithInvalidated(new BuildInvalidation(build, reason, now, actor)) : null;
            },
            cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            Log.BuildInvalidated(_logger, build.ToString(), actor, reason);
        }

        return changed;
    }

    /// <inheritdoc/>
    public async Task<bool> ReinstateAsync(BuildNumber build, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var changed = false;
        await ChangeStateAsync(
            s =>
            {
                changed = s.IsInvalidated(build);
                return changed ? s.WithReinstated(build) : null;
            },
            cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            Log.BuildReinstated(_logger, build.ToString(), actor);
        }

        return changed;
    }

    /// <inheritdoc/>
    public async Task<ConnectorResult> ProvisionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        using var activity = DeploymentMetrics.ActivitySource.StartActivity("iomt.deployment.provision");
        activity?.SetTag("iomt.connector", connector.Id);
        try
        {
            var state = (await _versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
            var current = state.Current ?? throw new BuildNotFoundException(null, $"Cannot provision connector '{connector.Id}': no build is current yet.");
            var package = await ReadPackageAsync(current, cancellationToken).ConfigureAwait(false);
            var started = _time.GetTimestamp();
            var outcome = await BringToTargetAsync(connector, package, cancellationToken).ConfigureAwait(false);
            var actual = await _deployer.GetProjectVersionAsync(connector, cancellationToken).ConfigureAwait(false);
            if (actual != current.ToString())
            {
                throw new VerificationFailedException(connector.Id, current, actual);
            }

            var elapsed = _time.GetElapsedTime(started);
            _metrics.ConnectorCompleted(RolloutKind.Provision, outcome.Outcome, elapsed);
            Log.ConnectorProvisioned(_logger, connector.Id, current.ToString(), (long)elapsed.TotalMilliseconds);
            return new ConnectorResult
            {
                Connector = connector,
                Outcome = outcome.Outcome,
                PreviousVersion = outcome.PreviousVersion,
                Duration = elapsed,
                Verification = VerificationOutcome.Verified,
                VerifiedVersion = actual,
            };
        }
        catch (Exception ex) when (!IsCancellation(ex, cancellationToken))
        {
            LogFailure(ex, "provision");
            throw;
        }
    }

    /// <inheritdoc/>
    public async Task<FleetVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var state = (await _versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
        return await VerifyFleetAsync(state, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<DeploymentStatus> GetStatusAsync(bool includeFleet = true, CancellationToken cancellationToken = default)
    {
        var state = (await _versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
        var builds = await ListBuildsAsync(cancellationToken, requireAny: false).ConfigureAwait(false);
        var history = await _versions.ReadHistoryAsync(20, cancellationToken).ConfigureAwait(false);
        var fleet = includeFleet ? await VerifyFleetAsync(state, cancellationToken).ConfigureAwait(false) : null;
        return new DeploymentStatus
        {
            State = state,
            Builds = [.. builds.Select(b => new BuildStatus(b, state.Invalidated.FirstOrDefault(i => i.Build == b.Build)))],
            Candidate = builds.LastOrDefault(b => !state.IsInvalidated(b.Build))?.Build,
            History = history,
            Fleet = fleet,
        };
    }

    /// <inheritdoc/>
    public async Task<RolloutRecord> CommandAsync(OperatorAction action, string actor, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (action is OperatorAction.Pause or OperatorAction.Abort && string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException($"A reason is required to {action.ToString().ToLowerInvariant()} a rollout.", nameof(reason));
        }

        RolloutRecord? applied = null;
        var now = _time.GetUtcNow();
        await ChangeStateAsync(
            s =>
            {
                applied = ApplyCommand(s.Rollout, new OperatorCommand(action, actor, reason, now));
                return s with { Rollout = applied };
            },
            cancellationToken).ConfigureAwait(false);
        Log.OperatorCommandRecorded(_logger, applied!.Id, action, actor, reason ?? "no reason given", applied.Status);
        _metrics.RolloutTransition(applied);
        return applied;
    }

    /// <summary>A command's effect on the record: a pure function of the record as stored.</summary>
    private RolloutRecord ApplyCommand(RolloutRecord? record, OperatorCommand command)
    {
        if (record is null)
        {
            throw new RolloutNotActiveException($"No rollout to {Verb(command.Action)}: none was started yet.");
        }

        var halted = record.Status == RolloutStatus.Halted;
        if (!record.IsActive && !(halted && command.Action is OperatorAction.Resume or OperatorAction.Abort))
        {
            throw new RolloutNotActiveException($"No rollout to {Verb(command.Action)}: the latest, {record.Id} to build {record.Target}, is {record.Status}.");
        }

        var r = record.WithCommand(command);
        var by = $"{command.Action.ToString().ToLowerInvariant()} by {command.Actor}" + (command.Reason is null ? string.Empty : ": " + command.Reason);
        switch (command.Action)
        {
            case OperatorAction.Pause when record.Status == RolloutStatus.Paused:
                throw new RolloutNotActiveException($"Rollout {record.Id} is already paused ({record.StatusReason}).");
            case OperatorAction.Pause:
                return r with { Status = RolloutStatus.Paused, PausedFrom = record.Status, StatusReason = "paused by " + command.Actor + ": " + command.Reason };
            case OperatorAction.Resume when halted:
                // Retry the failed wave: it is deployed again (connectors already on the target are skipped).
                return r.WithWave(r.Wave, r.Waves[r.Wave] with { Status = WaveStatus.Deploying }) with { Status = RolloutStatus.Running, StatusReason = null };
            case OperatorAction.Resume when record.Status != RolloutStatus.Paused:
                throw new RolloutNotActiveException($"Rollout {record.Id} is not paused; it is {record.Status}.");
            case OperatorAction.Resume:
                return r with { Status = record.PausedFrom ?? RolloutStatus.Running, PausedFrom = null, StatusReason = null };
            case OperatorAction.Promote when record.Status == RolloutStatus.Paused && record.PausedFrom == RolloutStatus.Baking:
                // The operator accepts the wave without health data: it passes, and the next wave starts.
                var wave = r.Waves[r.Wave] with { Status = WaveStatus.Passed, Verdict = $"passed on {by} (without health data)" };
                return NextWave(r.WithWave(r.Wave, wave) with { PausedFrom = null, StatusReason = null, BakeUntil = null });
            case OperatorAction.Promote when record.Status is RolloutStatus.Baking or RolloutStatus.AwaitingApproval:
                return r with { PromoteRequested = true };
            case OperatorAction.Promote:
                throw new RolloutNotActiveException($"Rollout {record.Id} has nothing to promote: it is {record.Status} (promote ends a bake or an approval).");
            case OperatorAction.PromoteFull:
                return r with { PromoteFull = true, Status = record.Status == RolloutStatus.Paused ? record.PausedFrom ?? RolloutStatus.Running : record.Status, PausedFrom = null };
            default:
                return r with { AbortRequested = true, StatusReason = "aborted by " + command.Actor + ": " + command.Reason };
        }
    }

    private static string Verb(OperatorAction action) => action switch
    {
        OperatorAction.PromoteFull => "promote in full",
        _ => action.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc/>
    public async Task<ConnectorPin> PinAsync(string connectorId, BuildNumber? build, string reason, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectorId);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        if (!await _inventory.ExistsAsync(connectorId, cancellationToken).ConfigureAwait(false))
        {
            throw new ConnectorNotFoundException(connectorId, $"Cannot pin connector '{connectorId}': it is not in the connector inventory. Nothing was changed.");
        }

        if (build is { } b)
        {
            var builds = await ListBuildsAsync(cancellationToken, requireAny: false).ConfigureAwait(false);
            if (!builds.Any(x => x.Build == b))
            {
                throw new BuildNotFoundException(b, $"Cannot pin connector '{connectorId}' to build {b}: it is not in the artifact store. Nothing was changed.");
            }
        }

        var pin = new ConnectorPin(connectorId, build, reason, actor, _time.GetUtcNow());
        await ChangeStateAsync(
            s => build is { } b && s.IsInvalidated(b)
                ? throw new BuildInvalidatedException(b, $"Cannot pin connector '{connectorId}' to build {b}: it is invalidated. Nothing was changed.")
                : s.WithPin(pin),
            cancellationToken).ConfigureAwait(false);
        Log.ConnectorPinned(_logger, connectorId, build is null ? "excluded from rollouts" : "build " + build, actor, reason);
        return pin;
    }

    /// <inheritdoc/>
    public async Task<bool> UnpinAsync(string connectorId, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectorId);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        var changed = false;
        await ChangeStateAsync(
            s =>
            {
                changed = s.PinOf(connectorId) is not null;
                return changed ? s.WithoutPin(connectorId) : null;
            },
            cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            Log.ConnectorUnpinned(_logger, connectorId, actor);
        }

        return changed;
    }

    private async Task<FleetVerification> VerifyFleetAsync(VersionState state, CancellationToken cancellationToken)
    {
        var expected = state.Current?.ToString();
        var results = await ReadFleetAsync(
            (connector, ct) => state.PinOf(connector.Id) switch
            {
                { Excluded: true } => ValueTask.FromResult(new ConnectorVersion(connector, VerificationOutcome.Excluded, null)),
                { Build: { } pinned } => ReadVersionAsync(connector, pinned.ToString(), ct),
                _ => ReadVersionAsync(connector, expected, ct),
            },
            v => v.Connector.Id,
            cancellationToken).ConfigureAwait(false);
        return new FleetVerification(state.Current, results);
    }

    /// <summary>Reads something of every connector in the inventory, bounded in parallel; sorted by connector id.</summary>
    private async Task<List<T>> ReadFleetAsync<T>(Func<ConnectorTarget, CancellationToken, ValueTask<T>> read, Func<T, string> idOf, CancellationToken cancellationToken)
    {
        var results = await BoundedFanOut.RunAsync(_inventory.ListAsync(cancellationToken), _options.MaxParallelism, read, cancellationToken).ConfigureAwait(false);
        results.Sort((a, b) => string.CompareOrdinal(idOf(a), idOf(b)));
        return results;
    }

    private async Task<RolloutReport> UpdateCoreAsync(IProgress<ConnectorResult>? progress, CancellationToken token)
    {
        var entry = await _versions.ReadAsync(token).ConfigureAwait(false);
        var state = entry.State;
        var builds = await ListBuildsAsync(token).ConfigureAwait(false);
        var decision = Decide(state, builds);
        var tick = new Tick(RolloutKind.Update, state.Current, progress, _time.GetUtcNow());
        if (state.Rollout is { } record)
        {
            if (record.IsActive && (state.IsInvalidated(record.Target) || record.AbortRequested))
            {
                // Invalidated underneath (invalidate, a rollback that could not wait) or aborted: restore what it reached.
                var invalidation = state.Invalidated.FirstOrDefault(i => i.Build == record.Target);
                var abort = record.Commands.LastOrDefault(c => c.Action == OperatorAction.Abort);
                var reason = invalidation is not null ? $"build {record.Target} was invalidated by {invalidation.Actor}: {invalidation.Reason}" : record.StatusReason ?? "aborted by an operator";
                tick.OperatorRequested = true;
                return await HaltAsync(record, reason, HaltAction.Rollback, invalidation?.Actor ?? abort?.Actor ?? _options.Actor, tick, token).ConfigureAwait(false);
            }

            if (record.IsActive && decision.Kind == RolloutKind.Update && decision.Target > record.Target)
            {
                var superseded = await UpdateRecordAsync(record.Id, r => r with { Status = RolloutStatus.Superseded, StatusReason = $"build {decision.Target} was delivered", BakeUntil = null, PausedFrom = null }, token).ConfigureAwait(false);
                Log.RolloutSuperseded(_logger, record.Id, record.Target.ToString(), decision.Target.ToString());
                await AppendHistoryAsync(Report(superseded, new Tick(RolloutKind.Update, record.From, null, tick.StartedAt), nextTickAt: null), token).ConfigureAwait(false);
            }
            else if (record.IsActive)
            {
                Activity.Current?.SetTag("iomt.target", record.Target.ToString());
                return await AdvanceAsync(record, null, tick, token).ConfigureAwait(false);
            }
            else if (record.Status == RolloutStatus.Halted && decision.Kind == RolloutKind.Update && decision.Target == record.Target)
            {
                // Halted is final until an operator acts: no tick retries it on its own.
                Log.RolloutWaiting(_logger, record.Id, record.Target.ToString(), record.Status, record.StatusReason ?? "halted");
                return Report(record, tick, nextTickAt: null);
            }
        }

        LogDecision(decision);
        Activity.Current?.SetTag("iomt.target", decision.Target.ToString());
        Activity.Current?.SetTag("iomt.kind", decision.Kind.ToString());
        if (decision.Kind == RolloutKind.Update)
        {
            return await StartRolloutAsync(decision.Target, tick, token).ConfigureAwait(false);
        }

        var package = await ReadPackageAsync(decision.Target, token).ConfigureAwait(false);
        if (decision.Kind != RolloutKind.Straggler)
        {
            var target = decision.Target;
            await ChangeStateAsync(
                s =>
                {
                    if (s.IsInvalidated(target))
                    {
                        throw new BuildInvalidatedException(target, $"Build {target} was invalidated while the update started; nothing was deployed.");
                    }

                    return s.InFlight == target ? null : s with { InFlight = target };
                },
                token).ConfigureAwait(false);
        }

        return await RollOutAsync(decision.Kind, state.Current, package, progress, token).ConfigureAwait(false);
    }

    private async Task<RolloutReport> RollbackCoreAsync(RollbackRequest request, IProgress<ConnectorResult>? progress, CancellationToken token)
    {
        var state = (await _versions.ReadAsync(token).ConfigureAwait(false)).State;
        var builds = await ListBuildsAsync(token).ConfigureAwait(false);
        var (bad, target) = ResolveRollback(state, builds, request);
        if (state.Rollout is { From: { } from } record && (record.IsActive || record.Status == RolloutStatus.Halted) && record.Target == bad && target.Build == from)
        {
            // A wave rollout: invalidate its target and restore exactly the connectors its reached waves brought to it.
            Log.RollbackStarted(_logger, bad.ToString(), from.ToString());
            var tick = new Tick(RolloutKind.Rollback, bad, progress, _time.GetUtcNow()) { OperatorRequested = true };
            return await HaltAsync(record, request.Reason, HaltAction.Rollback, request.Actor, tick, token).ConfigureAwait(false);
        }

        var package = await ReadPackageAsync(target.Build, token).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var toInvalidate = builds.Select(b => b.Build).Where(b => b > target.Build && b < bad).Append(bad).ToList();
        await ChangeStateAsync(
            s =>
            {
                foreach (var build in toInvalidate)
                {
                    s = s.IsInvalidated(build) ? s : s.WithInvalidated(new BuildInvalidation(build, request.Reason, now, request.Actor));
                }

                return s with { InFlight = target.Build };
            },
            token).ConfigureAwait(false);
        foreach (var build in toInvalidate.Where(b => !state.IsInvalidated(b)))
        {
            Log.BuildInvalidated(_logger, build.ToString(), request.Actor, request.Reason);
        }

        Log.RollbackStarted(_logger, bad.ToString(), target.Build.ToString());
        return await RollOutAsync(RolloutKind.Rollback, state.Current, package, progress, token).ConfigureAwait(false);
    }

    /// <summary>Works out the bad build and the build to roll back to; throws, changing nothing, when the request cannot be met.</summary>
    private static (BuildNumber Bad, ArtifactInfo Target) ResolveRollback(VersionState state, List<ArtifactInfo> builds, RollbackRequest request)
    {
        var bad = state.InFlight ?? state.Current
            ?? throw new BuildNotFoundException(null, "Nothing to roll back: no build is current or in flight.");
        if (request.To is { } named)
        {
            var target = builds.FirstOrDefault(b => b.Build == named)
                ?? throw new BuildNotFoundException(named, $"Cannot roll back to build {named}: it is not in the artifact store.");
            if (named >= bad)
            {
                throw new ArgumentException($"Cannot roll back to build {named}: it is not older than build {bad}, the build being rolled back.", nameof(request));
            }

            if (state.IsInvalidated(named))
            {
                throw new BuildInvalidatedException(named, $"Cannot roll back to build {named}: it is invalidated. Reinstate it first.");
            }

            return (bad, target);
        }

        return (bad, builds.LastOrDefault(b => b.Build < bad && !state.IsInvalidated(b.Build))
            ?? throw new BuildNotFoundException(null, $"Cannot roll back from build {bad}: there is no valid older build."));
    }

    /// <summary>
    /// Takes the lock for a rollback. When another rollout holds it, the rollback does not just give up: it invalidates the
    /// bad build (which stops that rollout within <see cref="RolloutOptions.StateWatchInterval"/>) and waits, up to
    /// <see cref="RolloutOptions.RollbackLockWait"/>, for the lock to be released.
    /// </summary>
    private async Task<IRolloutLease> AcquireForRollbackAsync(RollbackRequest request, CancellationToken cancellationToken)
    {
        var lease = await _lock.TryAcquireAsync(_owner, cancellationToken).ConfigureAwait(false);
        if (lease is not null)
        {
            return lease;
        }

        // Check the request before changing anything: a rollback that cannot run must not invalidate a build.
        var state = (await _versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;
        var builds = await ListBuildsAsync(cancellationToken).ConfigureAwait(false);
        var (bad, _) = ResolveRollback(state, builds, request);
        if (!state.IsInvalidated(bad))
        {
            var now = _time.GetUtcNow();
            await ChangeStateAsync(
                s => s.IsInvalidated(bad) ? null : s.WithInvalidated(new BuildInvalidation(bad, request.Reason, now, request.Actor)),
                cancellationToken).ConfigureAwait(false);
            Log.BuildInvalidated(_logger, bad.ToString(), request.Actor, request.Reason);
        }

        var wait = _options.RollbackLockWait;
        Log.RollbackWaitingForLock(_logger, bad.ToString(), wait);
        var deadline = _time.GetUtcNow() + wait;
        var poll = _options.StateWatchInterval < TimeSpan.FromSeconds(1) ? _options.StateWatchInterval : TimeSpan.FromSeconds(1);
        while (_time.GetUtcNow() < deadline)
        {
            await Task.Delay(poll, _time, cancellationToken).ConfigureAwait(false);
            lease = await _lock.TryAcquireAsync(_owner, cancellationToken).ConfigureAwait(false);
            if (lease is not null)
            {
                return lease;
            }
        }

        Log.LockHeld(_logger, "rollback");
        throw new RolloutLockHeldException(
            $"Another rollout still holds the rollout lock after {wait:g}. Build {bad} is invalidated, so that rollout stops deploying it and no update picks it again; " +
            "run the rollback again to restore the connectors that received it.");
    }

    /// <summary>Runs a rollout under the rollout lock, in a span, cancelled when the lease is lost; logs and counts its failure.</summary>
    private async Task<RolloutReport> UnderLockAsync(
        string operation,
        Func<CancellationToken, Task<RolloutReport>> rollout,
        CancellationToken cancellationToken,
        Func<CancellationToken, Task<IRolloutLease>>? acquire = null)
    {
        using var activity = DeploymentMetrics.ActivitySource.StartActivity("iomt.deployment." + operation);
        try
        {
            var lease = await (acquire ?? (ct => AcquireAsync(operation, ct)))(cancellationToken).ConfigureAwait(false);
            await using (lease.ConfigureAwait(false))
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.LeaseLost);
                try
                {
                    return await rollout(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (lease.LeaseLost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // Not the caller's cancellation: the lease could not be renewed in time, so this worker stopped.
                    throw new RolloutLockHeldException(
                        $"The rollout lock was lost during the {operation} (its lease could not be renewed before it expired); this worker started no connector operation after that. " +
                        "Another worker may hold the lock now; the next run resumes from the stored state.");
                }
            }
        }
        catch (Exception ex) when (ex is not RolloutLockHeldException && !IsCancellation(ex, cancellationToken))
        {
            LogFailure(ex, operation);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    private async Task<IRolloutLease> AcquireAsync(string operation, CancellationToken cancellationToken)
    {
        var lease = await _lock.TryAcquireAsync(_owner, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            Log.LockHeld(_logger, operation);
            throw new RolloutLockHeldException($"Another rollout holds the rollout lock; the {operation} did nothing. Try again when it has finished.");
        }

        return lease;
    }

    private async Task<List<ArtifactInfo>> ListBuildsAsync(CancellationToken cancellationToken, bool requireAny = true)
    {
        var builds = new List<ArtifactInfo>();
        await foreach (var artifact in _artifacts.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            builds.Add(artifact);
        }

        if (requireAny && builds.Count == 0)
        {
            throw new BuildNotFoundException(null, "The artifact store holds no build ({build}.zip); nothing was deployed.");
        }

        builds.Sort((a, b) => a.Build.CompareTo(b.Build));
        return builds;
    }

    private static Decision Decide(VersionState state, List<ArtifactInfo> builds)
    {
        var candidate = builds.LastOrDefault(b => !state.IsInvalidated(b.Build))
            ?? throw new BuildNotFoundException(null, $"Every build in the artifact store is invalidated (newest: {builds[^1].Build}); nothing was deployed. Deliver a new build or reinstate one.");
        if (state.Current is not { } current || candidate.Build > current)
        {
            return new Decision(RolloutKind.Update, candidate.Build, state.Current);
        }

        if (candidate.Build == current)
        {
            return new Decision(RolloutKind.Straggler, candidate.Build, current);
        }

        // The current build was invalidated without a rollback: converge to the newest valid build.
        return new Decision(RolloutKind.Rollback, candidate.Build, current);
    }

    private void LogDecision(Decision decision)
    {
        var target = decision.Target.ToString();
        switch (decision.Kind)
        {
            case RolloutKind.Update when decision.Current is { } current:
                Log.UpdateDetected(_logger, target, current.ToString());
                _metrics.CheckCompleted(updateDetected: true);
                break;
            case RolloutKind.Update:
                Log.FirstUpdateDetected(_logger, target);
                _metrics.CheckCompleted(updateDetected: true);
                break;
            case RolloutKind.Straggler:
                Log.NoUpdateDetected(_logger, target);
                _metrics.CheckCompleted(updateDetected: false);
                break;
            default:
                Log.CurrentInvalidated(_logger, decision.Current.ToString()!, target);
                _metrics.CheckCompleted(updateDetected: true);
                break;
        }
    }

    private async Task<ArtifactPackage> ReadPackageAsync(BuildNumber build, CancellationToken cancellationToken)
    {
        await using var opened = await _artifacts.OpenAsync(build, cancellationToken).ConfigureAwait(false);
        return await PackageReader.ReadAsync(opened, cancellationToken).ConfigureAwait(false);
    }

    private async Task<VersionState> ChangeStateAsync(Func<VersionState, VersionState?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var entry = await _versions.ReadAsync(cancellationToken).ConfigureAwait(false);
            var changed = change(entry.State);
            if (changed is null)
            {
                return entry.State;
            }

            changed = changed with { UpdatedAt = _time.GetUtcNow() };
            try
            {
                await _versions.WriteAsync(changed, entry.ETag, cancellationToken).ConfigureAwait(false);
                return changed;
            }
            catch (VersionStateConflictException) when (attempt < _options.StateWriteAttempts)
            {
                // Another writer got there first: re-read and re-apply the change to what it wrote.
            }
        }
    }

    private async Task<RolloutReport> RollOutAsync(RolloutKind kind, BuildNumber? from, ArtifactPackage package, IProgress<ConnectorResult>? progress, CancellationToken cancellationToken)
    {
        var rolloutId = Guid.NewGuid().ToString("N")[..12];
        var target = package.Build;
        var started = _time.GetUtcNow();
        var watch = new RolloutWatch(_versions, target, _options.StateWatchInterval, _time, _logger, cancellationToken);
        var pins = (await _versions.ReadAsync(cancellationToken).ConfigureAwait(false)).State;

        IReadOnlyList<ConnectorResult> results;
        using (var drain = new ShutdownDrain(_options.ShutdownDrainTimeout, _time, cancellationToken))
        {
            results = await _policy.ExecuteAsync(
                drain.UntilStopped(_inventory.ListAsync(drain.Steps), drain.Steps),
                async (connector, ct) =>
                {
                    var result = pins.PinOf(connector.Id) is { } pin
                        ? new ConnectorResult { Connector = connector, Outcome = pin.Excluded ? ConnectorOutcome.Excluded : ConnectorOutcome.Pinned }
                        : await ShutdownDrain.MayStartAsync(watch, cancellationToken, ct).ConfigureAwait(false)
                        ? await StepAsync(kind, rolloutId, connector, package, ct).ConfigureAwait(false)
                        : Stopped(kind, connector);
                    progress?.Report(result);
                    return result;
                },
                drain.Steps).ConfigureAwait(false);
        }

        // Cancelled by the caller: the running steps finished (or the drain ran out); the state stays resumable.
        cancellationToken.ThrowIfCancellationRequested();

        // A stopped rollout's target is invalidated: there is nothing to verify against, and current must not move.
        var stopReason = await watch.MayContinueAsync(cancellationToken).ConfigureAwait(false) ? null : watch.StopReason;
        if (stopReason is null)
        {
            results = await VerifyResultsAsync(results, target, cancellationToken).ConfigureAwait(false);
        }

        var counts = RolloutReport.CountByOutcome(results);
        var succeeded = stopReason is null && counts[(int)ConnectorOutcome.Failed] == 0 && !results.Any(r => r.Verification == VerificationOutcome.Mismatch);
        if (succeeded)
        {
            await ChangeStateAsync(s => Completed(s, target), cancellationToken).ConfigureAwait(false);
        }
        else if (stopReason is not null)
        {
            Log.RolloutStopped(_logger, rolloutId, kind, target.ToString(), stopReason, counts[(int)ConnectorOutcome.Stopped], counts[(int)ConnectorOutcome.Updated]);
        }
        else
        {
            Log.RolloutIncomplete(_logger, rolloutId, target.ToString());
        }

        var report = new RolloutReport
        {
            RolloutId = rolloutId,
            Kind = kind,
            From = from,
            Target = target,
            StartedAt = started,
            CompletedAt = _time.GetUtcNow(),
            Connectors = results,
            Succeeded = succeeded,
            StopReason = stopReason,
        };

        await RecordRunAsync(report, counts, cancellationToken).ConfigureAwait(false);
        return report;
    }

    /// <summary>The state once every connector is verified on the target: current moves, a finished or invalidated in-flight build clears.</summary>
    private static VersionState? Completed(VersionState state, BuildNumber target)
    {
        if (state.IsInvalidated(target))
        {
            return null;
        }

        var inFlight = state.InFlight is { } f && (f == target || state.IsInvalidated(f)) ? null : state.InFlight;
        return state.Current == target && inFlight == state.InFlight ? null : state with { Current = target, InFlight = inFlight };
    }

    private void LogUpdated(RolloutReport report, int updated)
    {
        if (updated == 0 || !_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var listed = new StringBuilder();
        var count = 0;
        foreach (var result in report.Connectors)
        {
            if (count == _options.MaxConnectorsListedInLog)
            {
                break;
            }

            if (result.Outcome == ConnectorOutcome.Updated)
            {
                listed.Append(count == 0 ? string.Empty : ", ").Append(result.Connector.Id);
                count++;
            }
        }

        if (updated > count)
        {
            listed.Append(" and ").Append(updated - count).Append(" more");
        }

        Log.AppServicesUpdated(_logger, report.Target.ToString(), updated, listed.ToString());
    }

    private async ValueTask<ConnectorResult> StepAsync(RolloutKind kind, string rolloutId, ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        ConnectorResult result;
        try
        {
            var (outcome, previous) = await BringToTargetAsync(connector, package, cancellationToken).ConfigureAwait(false);
            result = new ConnectorResult { Connector = connector, Outcome = outcome, PreviousVersion = previous, Duration = _time.GetElapsedTime(started) };
            if (outcome == ConnectorOutcome.Updated)
            {
                Log.ConnectorUpdated(_logger, connector.Id, package.Build.ToString(), (long)result.Duration.TotalMilliseconds);
            }
            else
            {
                Log.ConnectorAlreadyCurrent(_logger, connector.Id, package.Build.ToString());
            }
        }
        catch (ConnectorNotFoundException)
        {
            result = Deleted(connector, started, rolloutId);
        }
        catch (Exception ex) when (!IsCancellation(ex, cancellationToken))
        {
            // A failure on an app that was deleted meanwhile is a deletion, not a failure.
            if (!await StillExistsAsync(connector, cancellationToken).ConfigureAwait(false))
            {
                result = Deleted(connector, started, rolloutId);
            }
            else
            {
                var elapsed = _time.GetElapsedTime(started);
                Log.ConnectorFailed(_logger, ex, connector.Id, package.Build.ToString(), rolloutId, (long)elapsed.TotalMilliseconds);
                _metrics.Error("deploy");
                result = new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Failed, Duration = elapsed, Error = ex };
            }
        }

        _metrics.ConnectorCompleted(kind, result.Outcome, result.Duration);
        return result;
    }

    private ConnectorResult Stopped(RolloutKind kind, ConnectorTarget connector)
    {
        _metrics.ConnectorCompleted(kind, ConnectorOutcome.Stopped, TimeSpan.Zero);
        return new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Stopped };
    }

    private ConnectorResult Deleted(ConnectorTarget connector, long started, string rolloutId)
    {
        Log.ConnectorDeleted(_logger, connector.Id, rolloutId);
        return new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Deleted, Duration = _time.GetElapsedTime(started) };
    }

    private async Task<bool> StillExistsAsync(ConnectorTarget connector, CancellationToken cancellationToken)
    {
        try
        {
            return await _inventory.ExistsAsync(connector.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!IsCancellation(ex, cancellationToken))
        {
            // The inventory cannot say: keep the failure as a failure.
            return true;
        }
    }

    private async ValueTask<(ConnectorOutcome Outcome, string? PreviousVersion)> BringToTargetAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken)
    {
        var previous = await _deployer.GetProjectVersionAsync(connector, cancellationToken).ConfigureAwait(false);
        if (previous == package.Build.ToString())
        {
            return (ConnectorOutcome.AlreadyCurrent, previous);
        }

        // Once a deployment has started it is finished, PROJECT_VERSION included, even when the rollout is stopped meanwhile:
        // the setting must name the code the app runs, or a rollback would find the old build there and skip the app.
        await _deployer.DeployAsync(connector, package, cancellationToken).ConfigureAwait(false);
        await _deployer.SetProjectVersionAsync(connector, package.Build, cancellationToken).ConfigureAwait(false);
        return (ConnectorOutcome.Updated, previous);
    }

    /// <summary>Reads every stepped connector's PROJECT_VERSION again; returns the results with their verification.</summary>
    private async Task<ConnectorResult[]> VerifyResultsAsync(IReadOnlyList<ConnectorResult> stepped, BuildNumber target, CancellationToken cancellationToken)
    {
        var expected = target.ToString();
        ConnectorResult[] results = [.. stepped];
        await Parallel.ForAsync(
            0,
            results.Length,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var result = results[i];
                if (result.Outcome is ConnectorOutcome.Pinned or ConnectorOutcome.Excluded or ConnectorOutcome.Stopped)
                {
                    return;
                }

                if (result.Outcome == ConnectorOutcome.Deleted)
                {
                    results[i] = result with { Verification = VerificationOutcome.Deleted };
                    return;
                }

                var (outcome, version, _) = await ReadVersionCoreAsync(result.Connector, expected, ct).ConfigureAwait(false);
                results[i] = result with { Verification = outcome, VerifiedVersion = version };
            }).ConfigureAwait(false);
        return results;
    }

    private async ValueTask<ConnectorVersion> ReadVersionAsync(ConnectorTarget connector, string? expected, CancellationToken cancellationToken)
    {
        var (outcome, version, error) = await ReadVersionCoreAsync(connector, expected, cancellationToken).ConfigureAwait(false);
        return new ConnectorVersion(connector, outcome, version, error);
    }

    private async ValueTask<(VerificationOutcome Outcome, string? Version, string? Error)> ReadVersionCoreAsync(ConnectorTarget connector, string? expected, CancellationToken cancellationToken)
    {
        try
        {
            var actual = await _deployer.GetProjectVersionAsync(connector, cancellationToken).ConfigureAwait(false);
            if (actual == expected)
            {
                return (VerificationOutcome.Verified, actual, null);
            }

            Log.VerificationMismatch(_logger, connector.Id, expected ?? "(none)", actual);
            return (VerificationOutcome.Mismatch, actual, null);
        }
        catch (ConnectorNotFoundException)
        {
            return (VerificationOutcome.Deleted, null, null);
        }
        catch (Exception ex) when (!IsCancellation(ex, cancellationToken))
        {
            Log.VerificationReadFailed(_logger, ex, connector.Id, expected ?? "(none)");
            _metrics.Error("verify");
            return (VerificationOutcome.Mismatch, null, ex.Message);
        }
    }

    private void LogFailure(Exception ex, string operation)
    {
        // Domain cases (no build, nothing to roll back, a corrupt package, a conflict) are answers for the caller,
        // logged as warnings; anything else is an error with its stack.
        if (ex is DeploymentException)
        {
            Log.OperationRefused(_logger, ex, operation, ex.Message);
        }
        else
        {
            Log.OperationFailed(_logger, ex, operation);
        }

        _metrics.Error(operation);
    }

    private static bool IsCancellation(Exception ex, CancellationToken cancellationToken) =>
        ex is OperationCanceledException && cancellationToken.IsCancellationRequested;

    private sealed record Decision(RolloutKind Kind, BuildNumber Target, BuildNumber? Current);
}
