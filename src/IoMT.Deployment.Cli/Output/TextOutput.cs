using System.Globalization;

namespace IoMT.Deployment.Cli.Output;

/// <summary>The human form of every result.</summary>
internal static class TextOutput
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(TextWriter w, PackageResult r)
    {
        Line(w, $"Packaged {r.Files} files into {r.File} ({r.Size} bytes).");
        Line(w, $"SHA-256 {r.Sha256}");
    }

    public static void Write(TextWriter w, DeliverResult r)
    {
        switch (r.Outcome)
        {
            case DeliveryOutcome.Delivered:
                Line(w, $"Delivered build {r.Build} ({r.Size} bytes, SHA-256 {r.Sha256}).");
                break;
            case DeliveryOutcome.AlreadyDelivered:
                Line(w, $"Build {r.Build} is already delivered with the same content; nothing written (SHA-256 {r.Sha256}).");
                break;
            default:
                Line(w, $"Build {r.Build} unchanged: its content equals build {r.SameAsBuild}, the newest delivered build; nothing written (SHA-256 {r.Sha256}).");
                break;
        }
    }

    public static void Write(TextWriter w, StatusResult r)
    {
        Line(w, $"Provider:        {r.Provider} ({r.Location})");
        Line(w, $"Current build:   {r.Current ?? "(none)"}");
        Line(w, $"In flight:       {r.InFlight ?? "(none)"}");
        Line(w, $"Next update to:  {r.Candidate ?? "(no valid build)"}");
        w.WriteLine();
        Line(w, $"Builds ({r.Builds.Count}, newest last):");
        foreach (var b in r.Builds)
        {
            var marks = new List<string>();
            if (b.Current)
            {
                marks.Add("current");
            }

            if (b.InFlight)
            {
                marks.Add("in flight");
            }

            if (b.Invalidation is { } i)
            {
                marks.Add($"INVALIDATED by {i.Actor} at {i.At:u}: {i.Reason}");
            }

            var sha = b.Sha256 is null ? "sha256 unknown" : "sha256 " + b.Sha256[..Math.Min(12, b.Sha256.Length)];
            Line(w, $"  {b.Build,-20} {b.Size,10} bytes  {sha}{(marks.Count > 0 ? "  " + string.Join(", ", marks) : string.Empty)}");
        }

        if (r.Invalidated.Count > 0)
        {
            w.WriteLine();
            Line(w, $"Invalidated builds ({r.Invalidated.Count}):");
            foreach (var i in r.Invalidated)
            {
                Line(w, $"  {i.Build,-20} by {i.Actor} at {i.At:u}: {i.Reason}");
            }
        }

        if (r.Fleet is { } fleet)
        {
            w.WriteLine();
            Line(w, fleet.Expected is null
                ? (FormattableString)$"Fleet ({fleet.Total} connectors; no build is current yet):"
                : $"Fleet ({fleet.Total} connectors, {fleet.OnCurrent} on the current build {fleet.Expected}):");
            foreach (var g in fleet.ByVersion)
            {
                var version = g.Version ?? "(PROJECT_VERSION not set)";
                var tag = g.Version is not null && g.Version == fleet.Expected ? "  current" : string.Empty;
                Line(w, $"  {version,-20} {g.Count,5} connector{(g.Count == 1 ? string.Empty : "s")}{tag}");
            }

            if (fleet.Stragglers.Count > 0)
            {
                Line(w, $"Stragglers ({fleet.Stragglers.Count}):");
                foreach (var s in fleet.Stragglers)
                {
                    Line(w, $"  {s.Connector}: {s.ProjectVersion ?? "(not set)"}{(s.Error is null ? string.Empty : " (" + s.Error + ")")}");
                }
            }

            if (fleet.Deleted.Count > 0)
            {
                Line(w, $"Deleted ({fleet.Deleted.Count}): {string.Join(", ", fleet.Deleted)}");
            }

            if (fleet.Excluded.Count > 0)
            {
                Line(w, $"Excluded from rollouts, version not judged ({fleet.Excluded.Count}): {string.Join(", ", fleet.Excluded)}");
            }
        }

        WritePins(w, r.Pins);
        if (r.Rollout is { } rollout)
        {
            w.WriteLine();
            WriteRollout(w, rollout, r.Rollout.Active ? "Active rollout" : "Latest rollout");
        }

        if (r.History.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Recent rollouts (newest first):");
            foreach (var h in r.History.Take(5))
            {
                var counts = string.Join(", ", h.Counts.Where(c => c.Value > 0).Select(c => $"{c.Value} {c.Key}"));
                Line(w, $"  {h.StartedAt:u}  {h.Kind,-10} {h.From ?? "(none)"} -> {h.To}  {(h.Succeeded ? "succeeded" : "INCOMPLETE")}{(counts.Length > 0 ? "  (" + counts + ")" : string.Empty)}");
            }
        }
    }

    public static void Write(TextWriter w, PlanResult r)
    {
        var what = r.Kind switch
        {
            RolloutKind.Update => $"roll out build {r.Target} (current: {r.Current ?? "none"})",
            RolloutKind.Straggler => $"bring stragglers to build {r.Target}, the current build (no code update)",
            _ => $"converge the fleet to build {r.Target}, the newest valid build (current build {r.Current} is invalidated)",
        };
        Line(w, $"Dry run: an update would {what}.");
        Line(w, $"Connectors to update ({r.ToUpdate.Count}):");
        foreach (var c in r.ToUpdate)
        {
            Line(w, $"  {c.Connector}  (PROJECT_VERSION {c.CurrentVersion ?? "not set"})");
        }

        Line(w, $"Connectors skipped ({r.Skipped.Count}):");
        foreach (var c in r.Skipped)
        {
            Line(w, $"  {c.Connector}  {c.Reason}");
        }

        if (r.Active is { } active)
        {
            Line(w, $"The update would continue rollout {active.Id} of build {active.Target} ({active.Status}, wave {active.Wave + 1}/{active.Waves.Count}).");
        }

        Line(w, $"Waves ({r.Waves.Count}):");
        for (var i = 0; i < r.Waves.Count; i++)
        {
            var wave = r.Waves[i];
            Line(w, $"  {i + 1}. {wave.Name}: {wave.Count} connector{(wave.Count == 1 ? string.Empty : "s")}, {Threshold(wave.MaxFailed, wave.MaxFailedPercent)}, bake {Duration(wave.BakeTimeMs)}{(wave.RequireApproval ? ", waits for approval (rollout promote)" : string.Empty)}{(wave.RequireHealth ? string.Empty : ", no health gate")}");
        }

        if (r.Pinned.Count > 0)
        {
            Line(w, $"Pinned ({r.Pinned.Count}): {string.Join(", ", r.Pinned.Select(p => $"{p.Connector} on {p.Build}{(p.BuildInvalidated ? " (INVALIDATED)" : string.Empty)}"))}");
        }

        if (r.Excluded.Count > 0)
        {
            Line(w, $"Excluded ({r.Excluded.Count}): {string.Join(", ", r.Excluded.Select(p => p.Connector))}");
        }

        if (r.Subscriptions is { } subscriptions)
        {
            Line(w, $"Per subscription, under the ARM limits ({subscriptions.Count}; the slowest takes {Duration(r.LimitsBoundMs ?? 0)}):");
            Line(w, $"  {"subscription",-38} {"connectors",10} {"ARM writes",10} {"ARM reads",10} {"estimated",10}");
            foreach (var s in subscriptions)
            {
                Line(w, $"  {s.Subscription,-38} {s.Connectors,10} {s.ArmWrites,10} {s.ArmReads,10} {s.EstimatedMs / 1000.0,9:0.0}s");
            }
        }

        Line(w, $"Estimated duration: {Duration(r.EstimatedDurationMs)}. Plan fingerprint: {r.Fingerprint}");
        w.WriteLine("Nothing was changed.");
    }

    public static void Write(TextWriter w, RolloutResult r)
    {
        FormattableString what = r.Kind switch
        {
            RolloutKind.Straggler => $"No code update: build {r.Target} is current; stragglers brought to it",
            RolloutKind.Rollback => $"Rollback from build {r.From ?? "none"} to build {r.Target}",
            _ => $"Update to build {r.Target} (from {r.From ?? "none"})",
        };
        Line(w, $"{what.ToString(Invariant)} (rollout {r.RolloutId}): {(r.Succeeded ? "succeeded" : r.StopReason is not null ? "STOPPED" : "INCOMPLETE")} in {r.DurationMs / 1000.0:0.0} s.");
        Line(w, $"  {Count(r, ConnectorOutcome.Updated)} updated, {Count(r, ConnectorOutcome.AlreadyCurrent)} already current, {Count(r, ConnectorOutcome.Deleted)} deleted, {Count(r, ConnectorOutcome.Failed)} failed, {Count(r, ConnectorOutcome.Stopped)} stopped, {r.Mismatched} not verified.");
        foreach (var c in r.Connectors.Where(c => c.Outcome == ConnectorOutcome.Failed || c.Verification == VerificationOutcome.Mismatch))
        {
            Line(w, $"  {c.Connector}: {c.Outcome}, {c.Error}");
        }

        if (r.StopReason is not null)
        {
            Line(w, $"Stopped: {r.StopReason}. No deployment of build {r.Target} was started after that; the {Count(r, ConnectorOutcome.Updated)} connectors updated before the stop run it until a rollback restores them.");
        }
        else if (!r.Succeeded && r.Rollout is null or { Status: RolloutStatus.Running })
        {
            Line(w, $"Build {r.Target} stays in flight; the next update retries the connectors that are not on it.");
        }

        if (r.Rollout is { } rollout)
        {
            WriteRollout(w, rollout, "Rollout");
        }
    }

    public static void Write(TextWriter w, VerifyResult r)
    {
        Line(w, $"Expected build: {r.Expected ?? "(none: nothing rolled out yet)"}");
        Line(w, $"{r.Verified} verified, {r.Mismatched} differ, {r.Deleted} deleted.");
        foreach (var c in r.Connectors.Where(c => c.Outcome != VerificationOutcome.Verified))
        {
            Line(w, $"  {c.Connector}: {c.Outcome}{(c.Outcome == VerificationOutcome.Mismatch ? $", PROJECT_VERSION {c.ProjectVersion ?? "not set"}" : string.Empty)}{(c.Error is null ? string.Empty : " (" + c.Error + ")")}");
        }

        WritePins(w, r.Pins);
        if (r.Rollout is { Active: true } rollout)
        {
            Line(w, $"Rollout {rollout.Id} of build {rollout.Target} is {rollout.Status} at wave {rollout.Wave + 1}/{rollout.Waves.Count}: connectors of later waves are expected on {r.Expected ?? "the previous build"} until it completes.");
        }
    }

    public static void Write(TextWriter w, RolloutStatusResult r)
    {
        if (r.Rollout is { } rollout)
        {
            WriteRollout(w, rollout, rollout.Active ? "Active rollout" : "Latest rollout (not active)");
        }
        else
        {
            Line(w, $"No progressive rollout has run yet. Current build: {r.Current ?? "(none)"}.");
        }

        WritePins(w, r.Pins);
    }

    public static void Write(TextWriter w, RolloutCommandResult r)
    {
        var what = r.Action switch
        {
            OperatorAction.Pause => "Pause",
            OperatorAction.Resume => "Resume",
            OperatorAction.Promote => "Promote",
            OperatorAction.PromoteFull => "Promote --full",
            _ => "Abort",
        };
        Line(w, $"{what} of rollout {r.Rollout.Id} (build {r.Rollout.Target}) recorded, by {r.Actor}{(r.Reason is null ? string.Empty : ": " + r.Reason)}. The next tick (update, or the worker) acts on it.");
        WriteRollout(w, r.Rollout, "Rollout");
    }

    public static void Write(TextWriter w, PinChangeResult r)
    {
        if (!r.Pinned)
        {
            Line(w, r.Changed
                ? (FormattableString)$"Connector {r.Connector} unpinned by {r.Actor}; the next update brings it to the current build."
                : $"Connector {r.Connector} was not pinned; nothing changed.");
        }
        else if (r.Excluded)
        {
            Line(w, $"Connector {r.Connector} excluded from rollouts by {r.Actor}: {r.Reason}. No update or rollback touches it until it is unpinned.");
        }
        else
        {
            Line(w, $"Connector {r.Connector} pinned to build {r.Build} by {r.Actor}: {r.Reason}. No update or rollback moves it until it is unpinned.");
        }
    }

    /// <summary>One line of <c>update --wait</c>'s progress: where the rollout stands after a tick.</summary>
    public static void WriteProgress(TextWriter w, DateTimeOffset now, RolloutStateResult r)
    {
        var wave = r.Wave >= 0 && r.Wave < r.Waves.Count ? r.Waves[r.Wave] : null;
        var counts = wave is null ? string.Empty : $" {wave.Name}: {wave.Updated}/{wave.Connectors} updated, {wave.Failed} failed, {wave.Unhealthy} unhealthy;";
        var next = r.Status == RolloutStatus.Baking && r.BakeUntil is { } until ? $" until {until:u}" : string.Empty;
        Line(w, $"{now:HH:mm:ss} build {r.Target} wave {Math.Min(r.Wave + 1, r.Waves.Count)}/{r.Waves.Count}{counts} {r.Status}{next}{(r.StatusReason is null ? string.Empty : " (" + r.StatusReason + ")")}");
    }

    public static void Write(TextWriter w, BuildStateChangeResult r)
    {
        if (r.Invalidated)
        {
            Line(w, r.Changed
                ? (FormattableString)$"Build {r.Build} invalidated by {r.Actor}: {Sentence.End(r.Reason ?? string.Empty)} No update will pick it again until it is reinstated."
                : $"Build {r.Build} was already invalidated; nothing changed.");
        }
        else
        {
            Line(w, r.Changed
                ? (FormattableString)$"Build {r.Build} reinstated by {r.Actor}; the next update may pick it."
                : $"Build {r.Build} was not invalidated; nothing changed.");
        }
    }

    public static void Write(TextWriter w, ConnectorListResult r)
    {
        Line(w, $"{r.Connectors.Count} connector{(r.Connectors.Count == 1 ? string.Empty : "s")}:");
        foreach (var c in r.Connectors)
        {
            Line(w, $"  {c.Id}{(c.Canary ? "  (canary)" : string.Empty)}{(c.ResourceId is null ? string.Empty : "  " + c.ResourceId)}");
        }
    }

    public static void Write(TextWriter w, ConnectorChangeResult r, string verb, string unchangedReason)
    {
        Line(w, $"{verb} {r.Changed.Count} connector{(r.Changed.Count == 1 ? string.Empty : "s")}{(r.Changed.Count > 0 ? ": " + string.Join(", ", r.Changed) : string.Empty)}.");
        if (r.Unchanged.Count > 0)
        {
            Line(w, $"{unchangedReason}: {string.Join(", ", r.Unchanged)}.");
        }
    }

    private static void WriteRollout(TextWriter w, RolloutStateResult r, string title)
    {
        Line(w, $"{title} {r.Id}: build {r.Target} (from {r.From ?? "none"}), {r.Status.ToString().ToUpperInvariant()}, wave {Math.Min(r.Wave + 1, r.Waves.Count)}/{r.Waves.Count}, started {r.StartedAt:u}.");
        if (r.StatusReason is not null)
        {
            Line(w, $"  Reason: {r.StatusReason}");
        }

        if (r.BakeUntil is { } until && r.Status == RolloutStatus.Baking)
        {
            Line(w, $"  Baking until {until:u}.");
        }

        if (r.NextTickAt is { } next)
        {
            Line(w, $"  Next tick needed at {next:u}.");
        }

        if (r.PromoteRequested || r.PromoteFull || r.AbortRequested)
        {
            Line(w, $"  Requested: {string.Join(", ", new[] { (r.PromoteRequested, "promote"), (r.PromoteFull, "promote --full"), (r.AbortRequested, "abort") }.Where(x => x.Item1).Select(x => x.Item2))} (at the next tick).");
        }

        Line(w, $"  {"#",2} {"wave",-16} {"connectors",10} {"updated",8} {"failed",7} {"unhealthy",10}  status");
        for (var i = 0; i < r.Waves.Count; i++)
        {
            var wave = r.Waves[i];
            Line(w, $"  {i + 1,2} {wave.Name,-16} {wave.Connectors,10} {wave.Updated,8} {wave.Failed,7} {wave.Unhealthy,10}  {wave.Status}{(i == r.Wave && r.Active ? " <" : string.Empty)}{(wave.Verdict is null ? string.Empty : "  " + wave.Verdict)}");
        }

        if (r.FailedConnectors.Count > 0)
        {
            Line(w, $"  Failed connectors ({r.FailedConnectors.Count}):");
            foreach (var f in r.FailedConnectors)
            {
                Line(w, $"    {f.Connector} [{f.Wave}]: {f.Reason}");
            }
        }

        if (r.Commands.Count > 0)
        {
            Line(w, $"  Commands ({r.Commands.Count}):");
            foreach (var c in r.Commands)
            {
                Line(w, $"    {c.At:u} {c.Action} by {c.Actor}{(c.Reason is null ? string.Empty : ": " + c.Reason)}");
            }
        }
    }

    private static void WritePins(TextWriter w, IReadOnlyList<PinResult> pins)
    {
        if (pins.Count == 0)
        {
            return;
        }

        w.WriteLine();
        Line(w, $"Pinned and excluded connectors ({pins.Count}):");
        foreach (var p in pins)
        {
            var what = p.Excluded ? "excluded from rollouts" : $"pinned to build {p.Build}";
            var actual = p.ProjectVersion is null && p.OnPin is null ? string.Empty : $", PROJECT_VERSION {p.ProjectVersion ?? "not set"}{(p.OnPin == false ? " (NOT ON ITS PIN)" : string.Empty)}";
            Line(w, $"  {p.Connector}: {what}{actual}, by {p.Actor} at {p.At:u}: {p.Reason}");
            if (p.BuildInvalidated)
            {
                Line(w, $"  WARNING: {p.Connector} is pinned to build {p.Build}, which is INVALIDATED; unpin it or pin it to a valid build.");
            }
        }
    }

    private static string Threshold(int? maxFailed, double? maxFailedPercent) => (maxFailed, maxFailedPercent) switch
    {
        (null, null) => "no failure tolerated",
        ({ } n, null) => string.Create(Invariant, $"at most {n} failed"),
        (null, { } pct) => string.Create(Invariant, $"at most {pct}% failed"),
        ({ } n, { } pct) => string.Create(Invariant, $"at most {n} and {pct}% failed"),
    };

    private static string Duration(long ms)
    {
        var span = TimeSpan.FromMilliseconds(ms);
        return span == TimeSpan.Zero ? "none" : span.TotalDays >= 1 ? span.ToString(@"d\.hh\:mm\:ss", Invariant) : span.ToString(@"hh\:mm\:ss", Invariant);
    }

    private static void Line(TextWriter w, FormattableString text) => w.WriteLine(text.ToString(Invariant));

    private static int Count(RolloutResult r, ConnectorOutcome outcome) =>
        r.Totals.TryGetValue(outcome.ToString(), out var n) ? n : 0;
}
