using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// The baseline the engine is compared with: the same calls as the engine makes (read; deploy and write when not
/// current; then one verification read per connector) in a bare <see cref="Parallel.ForEachAsync{TSource}(IAsyncEnumerable{TSource}, ParallelOptions, Func{TSource, CancellationToken, ValueTask})"/>, nothing else.
/// </summary>
internal static class BareRollout
{
    public static ArtifactPackage Package() =>
        ArtifactPackage.FromBytes(SimulatedDeployment.NewBuild, TestPackages.ForBuild(SimulatedDeployment.NewBuild.ToString()));

    /// <summary>Rolls the package out and verifies; returns how many connectors did not verify.</summary>
    public static async Task<int> RunAsync(SimulatedFleet fleet, ArtifactPackage package, int parallelism)
    {
        var target = package.Build.ToString();
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism };
        await Parallel.ForEachAsync(fleet.ListAsync(), options, async (connector, ct) =>
        {
            if (await fleet.GetProjectVersionAsync(connector, ct) != target)
            {
                await fleet.DeployAsync(connector, package, ct);
                await fleet.SetProjectVersionAsync(connector, package.Build, ct);
            }
        });
        var mismatched = 0;
        await Parallel.ForEachAsync(fleet.ListAsync(), options, async (connector, ct) =>
        {
            if (await fleet.GetProjectVersionAsync(connector, ct) != target)
            {
                Interlocked.Increment(ref mismatched);
            }
        });
        return mismatched;
    }

    /// <summary>The design's rejected alternative: one connector after the other, then the verification one after the other.</summary>
    public static async Task<int> RunSequentialAsync(SimulatedFleet fleet, ArtifactPackage package)
    {
        var target = package.Build.ToString();
        await foreach (var connector in fleet.ListAsync())
        {
            if (await fleet.GetProjectVersionAsync(connector) != target)
            {
                await fleet.DeployAsync(connector, package);
                await fleet.SetProjectVersionAsync(connector, package.Build);
            }
        }

        var mismatched = 0;
        await foreach (var connector in fleet.ListAsync())
        {
            if (await fleet.GetProjectVersionAsync(connector) != target)
            {
                mismatched++;
            }
        }

        return mismatched;
    }

    /// <summary>Throws unless every connector was deployed once and verified on the new build.</summary>
    public static void Check(SimulatedFleet fleet, int mismatched)
    {
        if (mismatched != 0 || fleet.OnNewBuild() != fleet.Count || fleet.Deploys != fleet.Count)
        {
            throw new InvalidOperationException($"The baseline did not do its work: {fleet.Deploys} deploys, {fleet.OnNewBuild()} of {fleet.Count} on the new build, {mismatched} mismatched.");
        }
    }
}
