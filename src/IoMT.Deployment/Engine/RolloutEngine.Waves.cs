using System.Diagnostics;
using System.Runtime.CompilerServices;
using IoMT.Deployment.Diagnostics;

namespace IoMT.Deployment;

/// <summary>
/// The progressive-rollout controller: each <see cref="UpdateAsync"/> is one tick that reads the persisted
/// <see cref="RolloutRecord"/> and takes the next steps (deploy a wave, verify it, bake, judge its gate, move on, halt,
/// roll back, complete) until the rollout must wait. Every transition is written under the version state's ETag before
/// the work it announces, so a crash, a lost lease or a cancellation resumes from the record on the next tick.
/// </summary>
public sealed partial class RolloutEngine
{
    /// <summary>What one tick did: the connectors it stepped, and why it stopped early, if it did.</summary>
    private sealed class Tick(RolloutKind kind, BuildNumber? from, IProgress<ConnectorResult>? progress, DateTimeOffset startedAt)
    {
        public RolloutKind Kind { get; set; } = kind;

        public BuildNumber? From { get; } = from;

        public IProgress<ConnectorResult>? Progress { get; } = progress;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public List<ConnectorResult> Results { get; } = [];

        public string? StopReason { get; set; }

        /// <summary>Gets or sets a value indicating whether an operator asked for the rollback this tick runs (then a clean restore succeeds).</summary>
        public bool OperatorRequested { get; set; }
    }

    private enum GateKind
    {
        Pass,
        Halt,
        NoData,
    }

    private sealed record GateVerdict(GateKind Kind, string Reason, int Unhealthy, int NoData, IReadOnlyList<FailedConnector>? Failed = null);

    /// <summary>Starts a rollout of <paramref name="target"/>: plans the waves, persists the record (target in flight), then advances it.</summary>
    private async Task<RolloutReport> StartRolloutAsync(BuildNumber target, Tick tick, CancellationToken token)
    {
        var package = await ReadPackageAsync(target, token).ConfigureAwait(false);
        var state = (await _versions.ReadAsync(token).ConfigureAwait(false)).State;
        var members = await WaveMembersAsync(token).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var record = new RolloutRecord
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            Target = target,
            From = state.Current,
            Fingerprint = _planner.Fingerprint(target, members, state.Pins),
            Status = _planner[0].RequireApproval ? RolloutStatus.AwaitingApproval : RolloutStatus.Running,
            StartedAt = now,
            UpdatedAt = now,
            Waves = [.. _planner.Waves.Select((w, i) => new WaveRecord { Name = w.Name, Connectors = members[i].Count })],
        };
        await ChangeStateAsync(
            s =>
            {
                if (s.IsInvalidated(target))
                {
                    throw new BuildInvalidatedException(target, $"Build {target} was invalidated while the update started; nothing was deployed.");
                }

                return s with { InFlight = target, Rollout = record };
            },
            token).ConfigureAwait(false);
        Log.WaveRolloutStarted(_logger, record.Id, target.ToString(), _planner.Count, record.Fingerprint);
        _metrics.RolloutTransition(record);
        return await AdvanceAsync(record, package, tick, token).ConfigureAwait(false);
    }

    /// <summary>Takes steps until the rollout must wait (bake, approval, pause, retry at the next tick) or ends.</summary>
    private async Task<RolloutReport> AdvanceAsync(RolloutRecord record, ArtifactPackage? package, Tick tick, CancellationToken token)
    {
        for (var step = 0; step < (4 * _planner.Count) + 8; step++)
        {
            var now = _time.GetUtcNow();
            switch (record.Status)
            {
                case RolloutStatus.AwaitingApproval when record.PromoteRequested || record.PromoteFull:
                    record = await UpdateRecordAsync(record.Id, r => r with { Status = RolloutStatus.Running, PromoteRequested = false }, token).ConfigureAwait(false);
                    continue;

                case RolloutStatus.Baking when record.PromoteFull || record.PromoteRequested || now >= record.BakeUntil:
                {
                    var verdict = record.PromoteFull
                        ? new GateVerdict(GateKind.Pass, "promoted in full by an operator; health not judged", 0, 0)
                        : await JudgeAsync(record, token).ConfigureAwait(false);
                    var wave = record.Waves[record.Wave];
                    Log.GateVerdict(_logger, record.Id, wave.Name, verdict.Kind.ToString(), verdict.Reason);
                    _metrics.WaveJudged(verdict.Kind switch { GateKind.Pass => "passed", GateKind.Halt => "halted", _ => "no_data" });
                    var judged = wave with { Unhealthy = verdict.Unhealthy, NoData = verdict.NoData, Verdict = verdict.Reason };
                    if (verdict.Kind == GateKind.Halt)
                    {
                        record = await UpdateRecordAsync(
                            record.Id,
                            r => r.WithWave(r.Wave, judged with { Status = WaveStatus.Failed }) with
                            {
                                // The unhealthy connectors are the failed ones of a wave halted by its health gate.
                                FailedConnectors = [.. r.FailedConnectors.Concat((verdict.Failed ?? []).Where(f => !r.FailedConnectors.Any(x => x.Connector == f.Connector))).Take(RolloutRecord.MaxFailedConnectors)],
                            },
                            token).ConfigureAwait(false);
                        return await HaltAsync(record, $"wave '{wave.Name}' failed its gate: {verdict.Reason}", _options.OnHalt, _options.Actor, tick, token).ConfigureAwait(false);
                    }

                    if (verdict.Kind == GateKind.NoData)
                    {
                        record = await UpdateRecordAsync(
                            record.Id,
                            r => r.WithWave(r.Wave, judged) with { Status = RolloutStatus.Paused, PausedFrom = RolloutStatus.Baking, StatusReason = "no health data: " + verdict.Reason, PromoteRequested = false },
                            token).ConfigureAwait(false);
                        Log.RolloutPaused(_logger, record.Id, record.StatusReason!);
                        return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
                    }

                    record = await UpdateRecordAsync(record.Id, r => NextWave(r.WithWave(r.Wave, judged with { Status = WaveStatus.Passed }) with { PromoteRequested = false, BakeUntil = null }), token).ConfigureAwait(false);
                    continue;
                }

                case RolloutStatus.Baking:
                    return await FinishAsync(record, tick, record.BakeUntil, token).ConfigureAwait(false);

                case RolloutStatus.Running when record.Wave >= _planner.Count:
                    return await ConvergeAsync(record, package ?? await ReadPackageAsync(record.Target, token).ConfigureAwait(false), tick, token).ConfigureAwait(false);

                case RolloutStatus.Running:
                {
                    package ??= await ReadPackageAsync(record.Target, token).ConfigureAwait(false);
                    var (next, final) = await DeployWaveAsync(record, package, tick, token).ConfigureAwait(false);
                    if (final is not null)
                    {
                        return final;
                    }

                    record = next;
                    continue;
                }

                default:
                    if (record.Status is RolloutStatus.Paused or RolloutStatus.AwaitingApproval)
                    {
                        Log.RolloutWaiting(_logger, record.Id, record.Target.ToString(), record.Status, record.StatusReason ?? (record.Status == RolloutStatus.Paused ? "paused" : $"wave '{record.Waves[record.Wave].Name}' needs approval"));
                    }

                    return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
            }
        }

        return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
    }

    /// <summary>The record moved past its current wave: the next wave (awaiting approval when it asks for one), or the end.</summary>
    private RolloutRecord NextWave(RolloutRecord record)
    {
        var next = record.Wave + 1;
        if (next >= _planner.Count)
        {
            return record with { Wave = _planner.Count, Status = RolloutStatus.Running };
        }

        var approval = _planner[next].RequireApproval && !record.PromoteFull;
        return record with { Wave = next, Status = approval ? RolloutStatus.AwaitingApproval : RolloutStatus.Running };
    }

    /// <summary>Deploys the current wave and verifies it. Returns the new record, or the tick's report when the tick must end.</summary>
    private async Task<(RolloutRecord Record, RolloutReport? Final)> DeployWaveAsync(RolloutRecord record, ArtifactPackage package, Tick tick, CancellationToken token)
    {
        var index = record.Wave;
        var definition = _planner[index];
        var now = _time.GetUtcNow();
        record = await UpdateRecordAsync(
            record.Id,
            r => r.WithWave(index, r.Waves[index] with { Status = WaveStatus.Deploying, Attempts = r.Waves[index].Attempts + 1, StartedAt = r.Waves[index].StartedAt ?? now }),
            token).ConfigureAwait(false);
        if (record.Status != RolloutStatus.Running)
        {
            // An operator paused between the tick's read and the wave's start.
            return (record, await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false));
        }

        var attempt = record.Waves[index].Attempts;
        Log.WaveStarted(_logger, record.Id, index, definition.Name, attempt);
        using var activity = DeploymentMetrics.ActivitySource.StartActivity("iomt.deployment.wave");
        activity?.SetTag("iomt.wave", definition.Name);
        activity?.SetTag("iomt.target", record.Target.ToString());

        var state = (await _versions.ReadAsync(token).ConfigureAwait(false)).State;
        var id = record.Id;
        var results = await RunStepsAsync(
            RolloutKind.Update,
            id,
            package,
            SelectAsync(i => i == index, token),
            state,
            s => WaveStopCheck(s, id),
            tick,
            token).ConfigureAwait(false);
        if (tick.StopReason is not null)
        {
            // Paused, aborted, invalidated or replaced underneath: the next tick (or the waiting rollback) acts on it.
            return (record, await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false));
        }

        var (eligible, verified, failed, transient, deleted) = Summarize(results);
        var failedList = results.Where(r => r.Outcome == ConnectorOutcome.Failed || r.Verification == VerificationOutcome.Mismatch)
            .Select(r => new FailedConnector(r.Connector.Id, definition.Name, Shorten(r.ErrorMessage ?? $"PROJECT_VERSION is '{r.VerifiedVersion ?? "not set"}' after the deployment")))
            .ToList();
        Log.WaveVerified(_logger, id, definition.Name, verified, eligible, record.Target.ToString(), failed, transient);
        var exhausted = attempt >= _options.MaxWaveAttempts && !_planner.Implicit;
        var counted = failed + (exhausted ? transient : 0);
        var tolerance = _planner.Tolerance(index, eligible);
        var wave = record.Waves[index] with
        {
            Connectors = eligible + deleted,
            Updated = verified,
            Failed = counted,
            Transient = exhausted ? 0 : transient,
            Deleted = deleted,
        };

        RolloutRecord Record(RolloutRecord r) => r.WithWave(index, wave) with
        {
            FailedConnectors = [.. r.FailedConnectors.Concat(failedList.Where(f => !r.FailedConnectors.Any(x => x.Connector == f.Connector))).Take(RolloutRecord.MaxFailedConnectors)],
        };

        if (counted > tolerance)
        {
            record = await UpdateRecordAsync(id, r => Record(r).WithWave(index, wave with { Status = WaveStatus.Failed }), token).ConfigureAwait(false);
            var reason = $"wave '{definition.Name}': {counted} of {eligible} connectors failed, more than the {tolerance} tolerated";
            return (record, await HaltAsync(record, reason, _options.OnHalt, _options.Actor, tick, token).ConfigureAwait(false));
        }

        // Not all there and not over the threshold: without waves (today's behaviour) the next tick retries every connector
        // not on the target; with waves, transient failures are retried for MaxWaveAttempts ticks, then counted.
        var retry = _planner.Implicit ? verified < eligible : transient > 0 && !exhausted;
        if (retry)
        {
            record = await UpdateRecordAsync(id, Record, token).ConfigureAwait(false);
            Log.RolloutIncomplete(_logger, id, record.Target.ToString());
            return (record, await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false));
        }

        var verifiedAt = _time.GetUtcNow();
        if (record.PromoteFull || (definition.BakeTime <= TimeSpan.Zero && !definition.RequireHealth))
        {
            record = await UpdateRecordAsync(id, r => NextWave(Record(r).WithWave(index, wave with { Status = WaveStatus.Passed, VerifiedAt = verifiedAt, Verdict = r.PromoteFull ? "promoted in full; no bake, no health gate" : "verified; no bake, no health gate" })), token).ConfigureAwait(false);
            return (record, null);
        }

        var bakeUntil = verifiedAt + definition.BakeTime;
        record = await UpdateRecordAsync(id, r => Record(r).WithWave(index, wave with { Status = WaveStatus.Baking, VerifiedAt = verifiedAt }) with { Status = RolloutStatus.Baking, BakeUntil = bakeUntil }, token).ConfigureAwait(false);
        Log.WaveBaking(_logger, id, definition.Name, bakeUntil);
        return (record, null);
    }

    /// <summary>After the last wave: brings every eligible connector not yet on the target there, and completes when all verify.</summary>
    private async Task<RolloutReport> ConvergeAsync(RolloutRecord record, ArtifactPackage package, Tick tick, CancellationToken token)
    {
        var clean = record.Waves.All(w => w.Failed == 0 && w.Transient == 0 && w.Status == WaveStatus.Passed);
        if (!clean)
        {
            var state = (await _versions.ReadAsync(token).ConfigureAwait(false)).State;
            var id = record.Id;
            var results = await RunStepsAsync(RolloutKind.Update, id, package, SelectAsync(_ => true, token), state, s => WaveStopCheck(s, id), tick, token).ConfigureAwait(false);
            var (eligible, verified, _, _, _) = Summarize(results);
            if (tick.StopReason is not null || verified < eligible)
            {
                return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
            }
        }

        var target = record.Target;
        var completedAt = _time.GetUtcNow();
        var done = record with { Status = RolloutStatus.Completed, StatusReason = null, UpdatedAt = completedAt };
        await ChangeStateAsync(
            s =>
            {
                if (s.Rollout?.Id != record.Id || s.IsInvalidated(target))
                {
                    return null;
                }

                return (Completed(s, target) ?? s) with { Rollout = s.Rollout with { Status = RolloutStatus.Completed, StatusReason = null, UpdatedAt = completedAt } };
            },
            token).ConfigureAwait(false);
        Log.WaveRolloutCompleted(_logger, record.Id, target.ToString());
        _metrics.RolloutTransition(done);
        return await FinishAsync(done, tick, nextTickAt: null, token).ConfigureAwait(false);
    }

    /// <summary>
    /// Halts the rollout. With <see cref="HaltAction.Rollback"/>: invalidates the target (the reason names the wave and the
    /// failures) and brings back, with no waves and no bake, exactly the connectors of the reached waves that run it.
    /// </summary>
    private async Task<RolloutReport> HaltAsync(RolloutRecord record, string reason, HaltAction action, string actor, Tick tick, CancellationToken token)
    {
        Log.RolloutHalted(_logger, record.Id, record.Target.ToString(), reason, action);
        var target = record.Target;
        var now = _time.GetUtcNow();
        if (action == HaltAction.Pause || record.From is null)
        {
            var why = record.From is null && action == HaltAction.Rollback ? reason + "; there is no earlier build to roll back to" : reason;
            record = await UpdateRecordAsync(record.Id, r => r with { Status = RolloutStatus.Halted, StatusReason = why, PausedFrom = null }, token).ConfigureAwait(false);
            return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
        }

        // Persist the decision first: a crash during the restore resumes it (the record asks for the abort, the target is invalidated).
        await ChangeStateAsync(
            s =>
            {
                var next = s.IsInvalidated(target) ? s : s.WithInvalidated(new BuildInvalidation(target, reason, now, actor));
                return s.Rollout?.Id == record.Id && !(s.Rollout.AbortRequested && s.IsInvalidated(target))
                    ? next with { Rollout = s.Rollout with { AbortRequested = true, StatusReason = reason, UpdatedAt = now } }
                    : (ReferenceEquals(next, s) ? null : next);
            },
            token).ConfigureAwait(false);
        Log.BuildInvalidated(_logger, target.ToString(), actor, reason);

        var from = record.From.Value;
        var package = await ReadPackageAsync(from, token).ConfigureAwait(false);
        var reached = Enumerable.Range(0, record.Waves.Count).Where(i => record.Waves[i].Status != WaveStatus.Pending).ToHashSet();
        var state = (await _versions.ReadAsync(token).ConfigureAwait(false)).State;
        tick.Kind = RolloutKind.Rollback;
        var restored = await RestoreAsync(record.Id, target, package, SelectAsync(reached.Contains, token), state, tick, token).ConfigureAwait(false);
        if (restored.Any(r => r.Outcome == ConnectorOutcome.Failed))
        {
            // The record still asks for the abort: the next tick retries the connectors that were not restored.
            return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
        }

        record = await UpdateRecordAsync(
            record.Id,
            r =>
            {
                var waves = r.Waves.Select((w, i) => reached.Contains(i) ? w with { Status = w.Status == WaveStatus.Failed ? WaveStatus.Failed : WaveStatus.RolledBack } : w).ToArray();
                return r with { Status = RolloutStatus.RolledBack, Waves = waves, AbortRequested = false, PausedFrom = null, BakeUntil = null };
            },
            token,
            s => s.InFlight == target ? s with { InFlight = null } : s).ConfigureAwait(false);
        var count = restored.Count(r => r.Outcome == ConnectorOutcome.RolledBack);
        Log.RolloutRolledBack(_logger, record.Id, target.ToString(), count, from.ToString());
        return await FinishAsync(record, tick, nextTickAt: null, token).ConfigureAwait(false);
    }

    /// <summary>Brings connectors that run <paramref name="bad"/> back to the package's build; the others are not touched.</summary>
    private async Task<IReadOnlyList<ConnectorResult>> RestoreAsync(string rolloutId, BuildNumber bad, ArtifactPackage package, IAsyncEnumerable<ConnectorTarget> connectors, VersionState state, Tick tick, CancellationToken token)
    {
        var badVersion = bad.ToString();
        var results = await _policy.ExecuteAsync(
            connectors,
            async (connector, ct) =>
            {
                if (state.PinOf(connector.Id) is { } pin)
                {
                    return new ConnectorResult { Connector = connector, Outcome = pin.Excluded ? ConnectorOutcome.Excluded : ConnectorOutcome.Pinned };
                }

                var started = _time.GetTimestamp();
                ConnectorResult result;
                try
                {
                    var version = await _deployer.GetProjectVersionAsync(connector, ct).ConfigureAwait(false);
                    if (version != badVersion)
                    {
                        return new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.AlreadyCurrent, PreviousVersion = version };
                    }

                    await _deployer.DeployAsync(connector, package, ct).ConfigureAwait(false);
                    await _deployer.SetProjectVersionAsync(connector, package.Build, ct).ConfigureAwait(false);
                    result = new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.RolledBack, PreviousVersion = version, Duration = _time.GetElapsedTime(started) };
                    Log.ConnectorUpdated(_logger, connector.Id, package.Build.ToString(), (long)result.Duration.TotalMilliseconds);
                }
                catch (ConnectorNotFoundException)
                {
                    result = Deleted(connector, started, rolloutId);
                }
                catch (Exception ex) when (!IsCancellation(ex, ct))
                {
                    Log.ConnectorFailed(_logger, ex, connector.Id, package.Build.ToString(), rolloutId, (long)_time.GetElapsedTime(started).TotalMilliseconds);
                    _metrics.Error("restore");
                    result = new ConnectorResult { Connector = connector, Outcome = ConnectorOutcome.Failed, Duration = _time.GetElapsedTime(started), Error = ex };
                }

                _metrics.ConnectorCompleted(RolloutKind.Rollback, result.Outcome, result.Duration);
                tick.Progress?.Report(result);
                return result;
            },
            token).ConfigureAwait(false);
        var touched = results.Where(r => r.Outcome is not (ConnectorOutcome.AlreadyCurrent or ConnectorOutcome.Pinned or ConnectorOutcome.Excluded)).ToList();
        tick.Results.AddRange(touched);
        return touched;
    }

    /// <summary>Judges a baked wave: its failures plus what the health signals say of its connectors on the target.</summary>
    private async Task<GateVerdict> JudgeAsync(RolloutRecord record, CancellationToken token)
    {
        var index = record.Wave;
        var definition = _planner[index];
        var wave = record.Waves[index];
        var tolerance = _planner.Tolerance(index, Math.Max(0, wave.Connectors - wave.Deleted));
        if (!definition.RequireHealth)
        {
            return wave.Failed > tolerance
                ? new GateVerdict(GateKind.Halt, $"{wave.Failed} failed, more than the {tolerance} tolerated", 0, 0)
                : new GateVerdict(GateKind.Pass, $"{wave.Updated} verified, {wave.Failed} failed (tolerated {tolerance}); no health gate", 0, 0);
        }

        var state = (await _versions.ReadAsync(token).ConfigureAwait(false)).State;
        var since = wave.VerifiedAt ?? record.StartedAt;
        var until = _time.GetUtcNow();
        var target = record.Target.ToString();
        var (members, peers) = await GateMembersAsync(index, state, token).ConfigureAwait(false);
        var unhealthy = 0;
        var noData = 0;
        var judged = 0;
        var reasons = new List<string>();
        var unhealthyConnectors = new List<FailedConnector>();
        var gate = new Lock();
        await Parallel.ForEachAsync(
            members,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelism, CancellationToken = token },
            async (connector, ct) =>
            {
                string? version;
                try
                {
                    version = await _deployer.GetProjectVersionAsync(connector, ct).ConfigureAwait(false);
                }
                catch (ConnectorNotFoundException)
                {
                    return;
                }

                if (version != target)
                {
                    return;
                }

                var health = await HealthOfAsync(new HealthQuery(connector, record.Target, since, until) { Peers = peers }, ct).ConfigureAwait(false);
                lock (gate)
                {
                    judged++;
                    if (health.Status == HealthStatus.Unhealthy)
                    {
                        unhealthy++;
                        if (reasons.Count < 5)
                        {
                            reasons.Add($"{connector.Id}: {health.Reason ?? "unhealthy"}");
                        }

                        if (unhealthyConnectors.Count < RolloutRecord.MaxFailedConnectors)
                        {
                            unhealthyConnectors.Add(new FailedConnector(connector.Id, wave.Name, Shorten("unhealthy: " + (health.Reason ?? "no reason given"))));
                        }
                    }
                    else if (health.Status == HealthStatus.NoData)
                    {
                        noData++;
                    }
                }
            }).ConfigureAwait(false);

        var counted = wave.Failed + unhealthy;
        var detail = $"{judged} judged, {unhealthy} unhealthy, {noData} without data, {wave.Failed} failed; {tolerance} tolerated";
        if (counted > tolerance)
        {
            return new GateVerdict(GateKind.Halt, detail + (reasons.Count > 0 ? " (" + string.Join("; ", reasons) + ")" : string.Empty), unhealthy, noData, unhealthyConnectors);
        }

        return noData > 0 || (judged == 0 && wave.Updated > 0)
            ? new GateVerdict(GateKind.NoData, $"wave '{wave.Name}': {detail}", unhealthy, noData)
            : new GateVerdict(GateKind.Pass, detail, unhealthy, noData);
    }

    /// <summary>
    /// From one inventory listing: the judged wave's unpinned connectors, and its peers — the later waves' unpinned
    /// connectors (not yet updated), sorted by id and, above <see cref="HealthQuery.MaxPeers"/>, a fixed sample spread
    /// evenly over them. No peers on the last wave or without a health signal.
    /// </summary>
    private async Task<(List<ConnectorTarget> Members, IReadOnlyList<ConnectorTarget> Peers)> GateMembersAsync(int index, VersionState state, CancellationToken token)
    {
        var wantPeers = _healthSignals.Count > 0 && index < _planner.Count - 1;
        var members = new List<ConnectorTarget>();
        var later = new List<ConnectorTarget>();
        await foreach (var connector in _inventory.ListAsync(token).ConfigureAwait(false))
        {
            if (state.PinOf(connector.Id) is not null)
            {
                continue;
            }

            var wave = _planner.WaveOf(connector);
            if (wave == index)
            {
                members.Add(connector);
            }
            else if (wantPeers && wave > index)
            {
                later.Add(connector);
            }
        }

        later.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        if (later.Count <= HealthQuery.MaxPeers)
        {
            return (members, later);
        }

        var step = (double)later.Count / HealthQuery.MaxPeers;
        return (members, [.. Enumerable.Range(0, HealthQuery.MaxPeers).Select(i => later[(int)(i * step)])]);
    }

    /// <summary>Combines the registered signals: any Unhealthy wins, then NoData; no signal at all is NoData.</summary>
    private async ValueTask<ConnectorHealth> HealthOfAsync(HealthQuery query, CancellationToken token)
    {
        if (_healthSignals.Count == 0)
        {
            return new ConnectorHealth(HealthStatus.NoData, "no health signal is registered");
        }

        ConnectorHealth? combined = null;
        foreach (var signal in _healthSignals)
        {
            ConnectorHealth health;
            try
            {
                health = await signal.GetHealthAsync(query, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!IsCancellation(ex, token))
            {
                // A signal that fails cannot say the connector is healthy.
                health = new ConnectorHealth(HealthStatus.NoData, $"{signal.Name} failed: {ex.Message}");
            }

            if (health.Status == HealthStatus.Unhealthy)
            {
                return health with { Reason = $"{signal.Name}: {health.Reason ?? "unhealthy"}" };
            }

            if (health.Status == HealthStatus.NoData || combined is null)
            {
                combined = health.Status == HealthStatus.NoData || combined is null ? health : combined;
            }
        }

        return combined!;
    }

    /// <summary>Steps each connector with the state watch and the pins; records the results on the tick and verifies them.</summary>
    private async Task<IReadOnlyList<ConnectorResult>> RunStepsAsync(
        RolloutKind kind,
        string rolloutId,
        ArtifactPackage package,
        IAsyncEnumerable<ConnectorTarget> connectors,
        VersionState state,
        Func<VersionState, string?> stopCheck,
        Tick tick,
        CancellationToken token)
    {
        var watch = new RolloutWatch(_versions, package.Build, _options.StateWatchInterval, _time, _logger, token, stopCheck);
        IReadOnlyList<ConnectorResult> results;
        using (var drain = new ShutdownDrain(_options.ShutdownDrainTimeout, _time, token))
        {
            results = await _policy.ExecuteAsync(
                drain.UntilStopped(connectors, drain.Steps),
                async (connector, ct) =>
                {
                    var result = state.PinOf(connector.Id) is { } pin
                        ? new ConnectorResult { Connector = connector, Outcome = pin.Excluded ? ConnectorOutcome.Excluded : ConnectorOutcome.Pinned }
                        : await ShutdownDrain.MayStartAsync(watch, token, ct).ConfigureAwait(false)
                            ? await StepAsync(kind, rolloutId, connector, package, ct).ConfigureAwait(false)
                            : Stopped(kind, connector);
                    tick.Progress?.Report(result);
                    return result;
                },
                drain.Steps).ConfigureAwait(false);
        }

        // Cancelled by the caller: the running steps finished (or the drain ran out); the state stays resumable.
        token.ThrowIfCancellationRequested();
        tick.StopReason ??= await watch.MayContinueAsync(token).ConfigureAwait(false) ? null : watch.StopReason;
        if (tick.StopReason is null)
        {
            results = await VerifyResultsAsync(results, package.Build, token).ConfigureAwait(false);
        }
        else
        {
            Log.RolloutStopped(_logger, rolloutId, kind, package.Build.ToString(), tick.StopReason, results.Count(r => r.Outcome == ConnectorOutcome.Stopped), results.Count(r => r.Outcome == ConnectorOutcome.Updated));
        }

        tick.Results.AddRange(results);
        return results;
    }

    private static (int Eligible, int Verified, int Failed, int Transient, int Deleted) Summarize(IReadOnlyList<ConnectorResult> results)
    {
        int eligible = 0, verified = 0, failed = 0, transient = 0, deleted = 0;
        foreach (var r in results)
        {
            switch (r.Outcome)
            {
                case ConnectorOutcome.Pinned or ConnectorOutcome.Excluded or ConnectorOutcome.Stopped:
                    continue;
                case ConnectorOutcome.Deleted:
                    deleted++;
                    continue;
                case ConnectorOutcome.Failed when r.Error is DeploymentFailedException { IsTransient: true }:
                    eligible++;
                    transient++;
                    continue;
                case ConnectorOutcome.Failed:
                    eligible++;
                    failed++;
                    continue;
            }

            eligible++;
            if (r.Verification == VerificationOutcome.Verified)
            {
                verified++;
            }
            else if (r.Verification == VerificationOutcome.Deleted)
            {
                eligible--;
                deleted++;
            }
            else
            {
                failed++;
            }
        }

        return (eligible, verified, failed, transient, deleted);
    }

    /// <summary>Why a running wave must stop: the rollout was paused, aborted or replaced.</summary>
    private static string? WaveStopCheck(VersionState state, string rolloutId) => state.Rollout switch
    {
        null => "the rollout record is gone",
        { Id: var id } when id != rolloutId => $"rollout {rolloutId} was replaced by rollout {id}",
        { Status: RolloutStatus.Paused } r => r.StatusReason ?? "the rollout was paused",
        { AbortRequested: true } r => r.StatusReason ?? "the rollout was aborted",
        _ => null,
    };

    /// <summary>Streams the inventory's connectors whose wave satisfies the filter.</summary>
    private async IAsyncEnumerable<ConnectorTarget> SelectAsync(Func<int, bool> wave, [EnumeratorCancellation] CancellationToken token)
    {
        await foreach (var connector in _inventory.ListAsync(token).ConfigureAwait(false))
        {
            if (wave(_planner.WaveOf(connector)))
            {
                yield return connector;
            }
        }
    }

    /// <summary>The ids of each wave's connectors, from one inventory listing.</summary>
    private async Task<List<IReadOnlyList<string>>> WaveMembersAsync(CancellationToken token)
    {
        var members = Enumerable.Range(0, _planner.Count).Select(_ => new List<string>()).ToList();
        await foreach (var connector in _inventory.ListAsync(token).ConfigureAwait(false))
        {
            members[_planner.WaveOf(connector)].Add(connector.Id);
        }

        return [.. members.Select(m => (IReadOnlyList<string>)m)];
    }

    /// <summary>
    /// Changes the rollout record as freshly read (so an operator's concurrent command is kept): a pause stays a pause,
    /// remembering the status the engine moved to.
    /// </summary>
    private async Task<RolloutRecord> UpdateRecordAsync(string rolloutId, Func<RolloutRecord, RolloutRecord> change, CancellationToken token, Func<VersionState, VersionState>? alsoState = null)
    {
        RolloutRecord? written = null;
        var now = _time.GetUtcNow();
        await ChangeStateAsync(
            s =>
            {
                if (s.Rollout is not { } fresh || fresh.Id != rolloutId)
                {
                    throw new VersionStateConflictException($"Rollout {rolloutId} was replaced while this tick ran; nothing more was changed. The next tick continues from the stored state.");
                }

                var next = change(fresh) with { UpdatedAt = now };
                if (fresh.Status == RolloutStatus.Paused && next.Status is RolloutStatus.Running or RolloutStatus.Baking or RolloutStatus.AwaitingApproval)
                {
                    next = next with { Status = RolloutStatus.Paused, PausedFrom = next.Status, StatusReason = fresh.StatusReason };
                }

                written = next;
                var changed = s with { Rollout = next };
                return alsoState is null ? changed : alsoState(changed);
            },
            token).ConfigureAwait(false);
        _metrics.RolloutTransition(written!);
        return written!;
    }

    private RolloutReport Report(RolloutRecord record, Tick tick, DateTimeOffset? nextTickAt)
    {
        var failures = tick.Results.Any(r => r.Outcome == ConnectorOutcome.Failed || r.Verification == VerificationOutcome.Mismatch);
        return new RolloutReport
        {
            RolloutId = record.Id,
            Kind = tick.Kind,
            From = tick.Kind == RolloutKind.Rollback ? record.Target : record.From,
            Target = tick.Kind == RolloutKind.Rollback && record.From is { } from ? from : record.Target,
            StartedAt = tick.StartedAt,
            CompletedAt = _time.GetUtcNow(),
            Connectors = tick.Results,
            Succeeded = tick.StopReason is null && !failures
                && (record.Status is RolloutStatus.Completed or RolloutStatus.Baking or RolloutStatus.AwaitingApproval or RolloutStatus.Running
                    || (tick.OperatorRequested && record.Status == RolloutStatus.RolledBack)),
            StopReason = tick.StopReason,
            Rollout = record,
            NextTickAt = nextTickAt,
        };
    }

    /// <summary>Ends a tick: a tick that stepped connectors (or ended the rollout) is logged, counted and kept in the history.</summary>
    private async Task<RolloutReport> FinishAsync(RolloutRecord record, Tick tick, DateTimeOffset? nextTickAt, CancellationToken token)
    {
        var report = Report(record, tick, nextTickAt);
        if (tick.Results.Count == 0 && record.Status is not (RolloutStatus.Completed or RolloutStatus.Halted or RolloutStatus.RolledBack))
        {
            return report;
        }

        await RecordRunAsync(report, RolloutReport.CountByOutcome(tick.Results), token).ConfigureAwait(false);
        return report;
    }

    /// <summary>Logs a run's totals (events 1007 and 1008), counts it, and keeps it in the history: the one place a run is recorded.</summary>
    private async Task RecordRunAsync(RolloutReport report, int[] counts, CancellationToken token)
    {
        LogUpdated(report, counts[(int)ConnectorOutcome.Updated]);
        Log.RolloutCompleted(
            _logger,
            report.RolloutId,
            report.Kind,
            report.Target.ToString(),
            (long)report.Duration.TotalMilliseconds,
            counts[(int)ConnectorOutcome.Updated],
            counts[(int)ConnectorOutcome.AlreadyCurrent],
            counts[(int)ConnectorOutcome.Deleted],
            counts[(int)ConnectorOutcome.Failed],
            report.Mismatched,
            report.Succeeded);
        await AppendHistoryAsync(report, token).ConfigureAwait(false);
    }

    private async Task AppendHistoryAsync(RolloutReport report, CancellationToken token)
    {
        _metrics.RolloutCompleted(report.Kind, report.Succeeded);
        await _versions.AppendHistoryAsync(RolloutHistoryEntry.Of(report), token).ConfigureAwait(false);
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..199] + "…";
}
