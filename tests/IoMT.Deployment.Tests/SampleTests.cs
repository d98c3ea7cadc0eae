using System.Diagnostics;
using IoMT.Deployment.Local;

namespace IoMT.Deployment.Tests;

public class SampleTests
{
    [Fact]
    public async Task The_LocalFleet_sample_runs_the_whole_loop_on_embedded_defaults()
    {
        // From the sample's own output folder (bin/<configuration>/<framework>, as this project's): this project also references
        // the operator console, whose ASP.NET Core shared framework keeps assemblies the sample needs out of this folder.
        var outputFolder = Path.GetRelativePath(Path.Combine(TestPaths.RepoRoot, "tests", "IoMT.Deployment.Tests"), AppContext.BaseDirectory);
        var dll = Path.Combine(TestPaths.RepoRoot, "samples", "LocalFleet", outputFolder, "LocalFleet.dll");
        var root = Path.Combine(Path.GetTempPath(), "iomt-sample-test-" + Guid.NewGuid().ToString("N"));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--root");
        psi.ArgumentList.Add(root);
        psi.ArgumentList.Add("--keep");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var output = await stdout;

        try
        {
            Assert.True(process.ExitCode == 0, output + await stderr);
            Assert.Contains($"Kept {root}.", output, StringComparison.Ordinal);

            // The sample's results, read from the local root it leaves behind: build 3 was rolled back by the operator,
            // build 4 halted at the canary and was rolled back by the engine, so current is build 2 and neither is retried.
            var layout = new LocalLayout(new LocalProviderOptions { Root = root });
            var state = (await new JsonFileVersionStore(layout).ReadAsync()).State;
            Assert.Equal(BuildNumber.Parse("2"), state.Current);
            Assert.Null(state.InFlight);
            Assert.Equal(
                [(BuildNumber.Parse("3"), "oncall@contoso"), (BuildNumber.Parse("4"), "iomt-update-worker")],
                state.Invalidated.Select(i => (i.Build, i.Actor)).OrderBy(i => i.Build));
            Assert.Contains("device messages failing", state.Invalidated.Single(i => i.Build == BuildNumber.Parse("4")).Reason, StringComparison.Ordinal);

            // fabrikam was deleted during build 3's rollout; every other connector runs build 2 again, content included.
            var fleet = new LocalFleet(layout);
            var connectors = (await fleet.ReadAsync()).Select(c => c.Id).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["contoso", "litware", "northwind", "tailspin"], connectors);
            var deployer = new DirectoryConnectorDeployer(layout);
            foreach (var id in connectors)
            {
                Assert.Equal("2", await deployer.GetProjectVersionAsync(new ConnectorTarget(id)));
                Assert.Equal("connector code, build 2", await File.ReadAllTextAsync(Path.Combine(layout.WwwRoot(id), "bin", "Microsoft.Health.Fhir.Ingest.dll")));
            }
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
