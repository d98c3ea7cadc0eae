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
        else if (!r.Succeeded)
        {
            Line(w, $"Build {r.Target} stays in flight; the next update retries the connectors that are not on it.");
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

    private static void Line(TextWriter w, FormattableString text) => w.WriteLine(text.ToString(Invariant));

    private static int Count(RolloutResult r, ConnectorOutcome outcome) =>
        r.Totals.TryGetValue(outcome.ToString(), out var n) ? n : 0;
}
