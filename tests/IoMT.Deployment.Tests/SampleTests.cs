using System.Diagnostics;

namespace IoMT.Deployment.Tests;

public class SampleTests
{
    [Fact]
    public async Task The_LocalFleet_sample_runs_the_whole_loop_on_embedded_defaults()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "LocalFleet.dll");
        var root = Path.Combine(Path.GetTempPath(), "iomt-sample-test-" + Guid.NewGuid().ToString("N"));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--root");
        psi.ArgumentList.Add(root);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var output = await stdout;

        Assert.True(process.ExitCode == 0, output + await stderr);
        Assert.Contains("Code update detected: build 3 is newer than current build 2.", output, StringComparison.Ordinal);
        Assert.Contains("Connector fabrikam was deleted during rollout", output, StringComparison.Ordinal);
        Assert.Contains("Rolling back from build 3 to build 2.", output, StringComparison.Ordinal);
        Assert.Contains("No code update detected: current build 2", output, StringComparison.Ordinal);
        Assert.Contains("build 3   invalidated by oncall@contoso", output, StringComparison.Ordinal);
        Assert.Contains("Unchanged", output, StringComparison.Ordinal);
        var afterCheck = output[output.IndexOf("== 6.", StringComparison.Ordinal)..output.IndexOf("== 7.", StringComparison.Ordinal)];
        Assert.DoesNotContain("updated to build 3", afterCheck, StringComparison.Ordinal);

        // The progressive story: build 4 reaches only the canary, which reports Unhealthy; the rollout rolls back by itself.
        var story = output[output.IndexOf("== 7.", StringComparison.Ordinal)..];
        Assert.Contains("Connector contoso updated to build 4", story, StringComparison.Ordinal);
        Assert.Contains("rollout RolledBack", story, StringComparison.Ordinal);
        Assert.Contains("device messages failing", story, StringComparison.Ordinal);
        foreach (var other in new[] { "litware", "northwind", "tailspin" })
        {
            Assert.DoesNotContain($"Connector {other} updated to build 4", story, StringComparison.Ordinal);
        }

        var after = output[output.IndexOf("== 8.", StringComparison.Ordinal)..output.IndexOf("== 9.", StringComparison.Ordinal)];
        Assert.DoesNotContain("updated to build 4", after, StringComparison.Ordinal);
        Assert.Contains("No code update detected: current build 2", after, StringComparison.Ordinal);
        Assert.Contains("4 already current", after, StringComparison.Ordinal);
        Assert.Contains("build 4   invalidated by iomt-update-worker", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(root));
    }
}
