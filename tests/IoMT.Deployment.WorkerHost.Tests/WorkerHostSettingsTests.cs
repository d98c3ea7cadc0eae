using IoMT.Deployment.Testing;

namespace IoMT.Deployment.ProcessTests;

/// <summary>
/// samples/WorkerHost as a real process with invalid settings: it stops at start, before reaching any server, and the
/// message names every invalid setting by the key the host reads (under <c>IoMTDeployment:Azure</c>), not by the
/// options classes' convention sections. No emulator is needed: nothing is called before the options are validated.
/// </summary>
public sealed class WorkerHostSettingsTests
{
    [Fact]
    public void Invalid_settings_stop_the_host_at_start_naming_each_by_the_key_the_host_reads()
    {
        var folder = Directory.CreateTempSubdirectory("iomt-worker-settings-").FullName;
        try
        {
            var environment = new Dictionary<string, string?>
            {
                ["Urls"] = $"http://127.0.0.1:{FreePort.Next()}",
                ["IoMTDeployment__Provider"] = "azure",
                ["IoMTDeployment__Azure__Blobs__ConnectionString"] = "UseDevelopmentStorage=true",
                ["IoMTDeployment__Azure__Cosmos__AccountEndpoint"] = "https://127.0.0.1:9/",
                ["IoMTDeployment__Azure__Cosmos__AccountKey"] = Convert.ToBase64String(new byte[32]),
                ["IoMTDeployment__Azure__Cosmos__DatabaseName"] = "iomt",

                // A DataAnnotations range on each of three adapters, and a rule across two settings (IValidatableObject).
                ["IoMTDeployment__Azure__Arm__PollInterval"] = "00:00:00",
                ["IoMTDeployment__Azure__Cosmos__VersionStore__HistoryLimit"] = "0",
                ["IoMTDeployment__Azure__Blobs__ContainerName"] = "Not_A_Container",
                ["IoMTDeployment__Azure__Blobs__Lock__RenewInterval"] = "00:00:30",
                ["IoMTDeployment__Azure__Blobs__Lock__LeaseDuration"] = "00:00:20",
            };

            var run = Built.Run(Built.WorkerHost, folder, environment);
            var output = run.Stdout + "\n" + run.Stderr;

            Assert.True(run.ExitCode != 0, $"The host exited 0 with invalid settings.\n{output}");
            Assert.Contains("IoMTDeployment:Azure:Arm:PollInterval must be between 00:00:00.001 and 00:10:00.", output, StringComparison.Ordinal);
            Assert.Contains("IoMTDeployment:Azure:Cosmos:VersionStore:HistoryLimit must be between 1 and 100000.", output, StringComparison.Ordinal);
            Assert.Contains("IoMTDeployment:Azure:Blobs:ContainerName ", output, StringComparison.Ordinal);
            Assert.Contains("IoMTDeployment:Azure:Blobs:Lock:RenewInterval (00:00:30) must be shorter than IoMTDeployment:Azure:Blobs:Lock:LeaseDuration (00:00:20)", output, StringComparison.Ordinal);
            foreach (var convention in new[] { "IoMTDeployment:Kudu:", "IoMTDeployment:Cosmos:", "IoMTDeployment:Blobs:", "IoMTDeployment:BlobLock:" })
            {
                Assert.DoesNotContain(convention, output, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
