using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.ProcessTests;

/// <summary>
/// The worker's read side of the artifact container, composed as the worker composes it but over a read-only SAS
/// (read + list, as Storage Blob Data Reader grants): it lists and opens builds, and any write it issued would be refused.
/// </summary>
[Collection(ProcessServersCollection.Name)]
public sealed class WorkerReadSideTests(AzureProcessServers servers)
{
    [Fact]
    public async Task The_worker_read_side_lists_and_opens_builds_with_read_and_list_rights_only_and_registers_no_publisher()
    {
        var name = "ro-" + Guid.NewGuid().ToString("N")[..12];
        var owner = servers.Blobs.GetBlobContainerClient(name);
        await owner.CreateAsync();
        var folder = Directory.CreateTempSubdirectory("iomt-read-side-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "host.json"), "{}");
            var delivery = new ServiceCollection().AddLogging();
            delivery.AddIoMTDeployment().AddBlobArtifactPublisher(servers.StorageConnectionString, configure: o => o.ContainerName = name);
            await using (var pipeline = delivery.BuildServiceProvider())
            {
                await pipeline.GetRequiredService<DeliveryService>().DeliverAsync(BuildNumber.Parse("7"), await DeterministicPackager.PackageAsync(folder));
            }

            var readOnly = new BlobContainerClient(owner.GenerateSasUri(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1)));

            // The SAS is what the test claims: a write through it is refused, so a write by the adapter could not pass unseen.
            var refused = await Assert.ThrowsAsync<RequestFailedException>(() => readOnly.UploadBlobAsync("probe.zip", BinaryData.FromString("x")));
            Assert.Equal(403, refused.Status);

            var worker = new ServiceCollection().AddLogging();
            worker.AddIoMTDeployment().AddBlobArtifacts(_ => readOnly, o => o.ContainerName = name);
            await using var services = worker.BuildServiceProvider();
            Assert.Null(services.GetService<IArtifactPublisher>());
            var source = services.GetRequiredService<IArtifactSource>();

            var builds = new List<ArtifactInfo>();
            await foreach (var build in source.ListAsync())
            {
                builds.Add(build);
            }

            Assert.Equal(["7"], builds.Select(b => b.Build.ToString()));
            var opened = await source.OpenAsync(BuildNumber.Parse("7"));
            await using (opened)
            {
                using var copy = new MemoryStream();
                await opened.Content.CopyToAsync(copy);
                Assert.True(copy.Length > 0);
            }

            // Nothing was written: the container holds the delivered build only, unchanged.
            var names = new List<string>();
            await foreach (var blob in owner.GetBlobsAsync())
            {
                names.Add(blob.Name);
            }

            Assert.Equal(["7.zip"], names);
        }
        finally
        {
            await owner.DeleteIfExistsAsync();
            Directory.Delete(folder, recursive: true);
        }
    }
}
