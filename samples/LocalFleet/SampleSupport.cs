using IoMT.Deployment;
using IoMT.Deployment.Local;

namespace LocalFleetSample;

/// <summary>Makes the sample's builds: the function app folder plus a version file, packaged deterministically.</summary>
internal static class SampleBuilds
{
    public static async Task<byte[]> PackageAsync(string functionApp, string build, string root)
    {
        var folder = Path.Combine(root, "build-output", build);
        CopyFolder(functionApp, folder);
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        await File.WriteAllTextAsync(Path.Combine(folder, "bin", "Microsoft.Health.Fhir.Ingest.dll"), $"connector code, build {build}");
        return await DeterministicPackager.PackageAsync(folder);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}

/// <summary>A deployer that deletes one connector when its deployment of one build starts, as a customer might.</summary>
internal sealed class DeletesDuringDeploy(IConnectorDeployer inner, IoMT.Deployment.Local.LocalFleet fleet, string connectorId, BuildNumber build) : IConnectorDeployer
{
    public async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        if (connector.Id == connectorId && package.Build == build)
        {
            await fleet.RemoveAsync([connectorId], cancellationToken);
        }

        await inner.DeployAsync(connector, package, cancellationToken);
    }

    public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber target, CancellationToken cancellationToken = default) =>
        inner.SetProjectVersionAsync(connector, target, cancellationToken);

    public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default) =>
        inner.GetProjectVersionAsync(connector, cancellationToken);
}

/// <summary>Prints tables.</summary>
internal sealed class Printer(TextWriter output)
{
    public void Heading(string text)
    {
        output.WriteLine();
        output.WriteLine("== " + text);
    }

    public async Task FleetAsync(IoMT.Deployment.Local.LocalFleet fleet, IConnectorDeployer deployer)
    {
        output.WriteLine("   connector    PROJECT_VERSION");
        foreach (var c in await fleet.ReadAsync())
        {
            var version = await deployer.GetProjectVersionAsync(new ConnectorTarget(c.Id));
            output.WriteLine($"   {c.Id,-12} {version ?? "(none)"}");
        }
    }

    public void Report(RolloutReport report)
    {
        var rollout = report.Rollout is { } r
            ? $"; rollout {r.Status}, wave {Math.Min(r.Wave + 1, r.Waves.Count)} of {r.Waves.Count}" + (r.StatusReason is null ? string.Empty : $" ({r.StatusReason})")
            : string.Empty;
        output.WriteLine($"   rollout {report.RolloutId} {report.Kind} {report.From?.ToString() ?? "-"} -> {report.Target}: succeeded={report.Succeeded}{rollout}");
        foreach (var c in report.Connectors.OrderBy(c => c.Connector.Id, StringComparer.Ordinal))
        {
            output.WriteLine($"     {c.Connector.Id,-12} {c.Outcome,-15} verification={c.Verification?.ToString() ?? "-",-9} {c.Duration.TotalMilliseconds,6:F1} ms {c.ErrorMessage}");
        }
    }

    public async Task StatusAsync(IRolloutEngine engine)
    {
        var status = await engine.GetStatusAsync();
        output.WriteLine($"   current: {status.State.Current}   in flight: {status.State.InFlight?.ToString() ?? "-"}   candidate: {status.Candidate}");
        foreach (var b in status.Builds)
        {
            output.WriteLine($"   build {b.Artifact.Build,-3} {(b.Invalidation is null ? "valid" : $"invalidated by {b.Invalidation.Actor}: {b.Invalidation.Reason}")}");
        }

        output.WriteLine("   history (newest first):");
        foreach (var h in status.History)
        {
            output.WriteLine($"     {h.Id} {h.Kind,-9} {h.From?.ToString() ?? "-"} -> {h.To} succeeded={h.Succeeded} " + string.Join(", ", h.Counts.Select(kv => $"{kv.Key}={kv.Value}")));
        }
    }
}
