using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using IoMT.Deployment.Testing;
using static IoMT.Deployment.Blobs.Tests.TestPackages;

namespace IoMT.Deployment.Blobs.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class BlobArtifactSourceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task List_returns_the_builds_and_ignores_other_names_with_a_warning()
    {
        var container = await azurite.CreateContainerAsync();
        var publisher = new BlobArtifactPublisher(container);
        string[] builds = ["1", "2", "10", "20201105.3"];
        var hashes = new Dictionary<string, string>();
        foreach (var (build, seed) in builds.Select((b, i) => (b, i)))
        {
            hashes[build] = (await publisher.PublishAsync(Build(build), new MemoryStream(Zip(seed)))).Sha256;
        }

        string[] junk = ["readme.txt", "01.zip", "1.ZIP", "abc.zip", "folder/3.zip", "1..2.zip", "4.zip.bak"];
        foreach (var name in junk)
        {
            await container.UploadBlobAsync(name, BinaryData.FromString("not a package"));
        }

        var log = new LogProbe<BlobArtifactSource>();
        var source = new BlobArtifactSource(container, logger: log);
        var listed = await source.ListAsync().ToListAsync();

        Assert.Equal(builds, listed.OrderBy(i => i.Build).Select(i => i.Build.ToString()));
        foreach (var info in listed)
        {
            Assert.Equal(hashes[info.Build.ToString()], info.Sha256);
            Assert.Equal(container.GetBlobClient(info.Build.PackageFileName).Uri, info.Location);
            Assert.Equal((await container.GetBlobClient(info.Build.PackageFileName).GetPropertiesAsync()).Value.ContentLength, info.Size);
            Assert.False(string.IsNullOrEmpty(info.ETag));
            Assert.NotNull(info.LastModified);
        }

        var warnings = log.WithId(2000).ToList();
        Assert.Equal(junk.Order(StringComparer.Ordinal), warnings.Select(w => w.GetStructuredStateValue("BlobName")).Order(StringComparer.Ordinal));
        Assert.All(warnings, w => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, w.Level));
    }

    [Fact]
    public async Task List_reads_every_page_of_a_large_container()
    {
        var container = await azurite.CreateContainerAsync();
        var expected = Enumerable.Range(1, 7).Select(i => Build(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        foreach (var build in expected)
        {
            await container.UploadBlobAsync(build.PackageFileName, BinaryData.FromBytes(Zip(1)));
        }

        var recorder = new RequestRecorder();
        var client = azurite.CreateServiceClient(recorder).GetBlobContainerClient(container.Name);
        var source = new BlobArtifactSource(client, new BlobArtifactOptions { ListPageSize = 2 });

        var listed = await source.ListAsync().ToListAsync();

        Assert.Equal(expected, listed.Select(i => i.Build).Order());
        var listRequests = recorder.Requests.Where(r => r.HasQuery("comp=list")).ToList();
        Assert.Equal(4, listRequests.Count);
        Assert.All(listRequests, r => Assert.True(r.HasQuery("maxresults=2"), r.Uri.Query));
    }

    [Fact]
    public async Task Open_gives_the_bytes_with_the_recorded_sha256_and_location()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(42);
        var published = await new BlobArtifactPublisher(container).PublishAsync(Build("20201105.3"), new MemoryStream(bytes));
        var source = new BlobArtifactSource(container);

        await using var opened = await source.OpenAsync(Build("20201105.3"));
        using var copy = new MemoryStream();
        await opened.Content.CopyToAsync(copy);

        Assert.Equal(bytes, copy.ToArray());
        Assert.Equal(published.Sha256, opened.Info.Sha256);
        Assert.Equal(ContentHash.Sha256Hex(bytes), opened.Info.Sha256);
        Assert.Equal(bytes.Length, opened.Info.Size);
        Assert.Equal(container.GetBlobClient("20201105.3.zip").Uri, opened.Info.Location);
    }

    [Fact]
    public async Task A_package_without_a_recorded_sha256_is_listed_without_one_and_hashed_on_read()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(7);
        await container.UploadBlobAsync("7.zip", BinaryData.FromBytes(bytes));
        var log = new LogProbe<BlobArtifactSource>();
        var source = new BlobArtifactSource(container, logger: log);

        var listed = Assert.Single(await source.ListAsync().ToListAsync());
        var package = await source.ReadPackageAsync(Build("7"));

        Assert.Null(listed.Sha256);
        Assert.Equal(ContentHash.Sha256Hex(bytes), package.Sha256);
        Assert.Equal(bytes, package.Content.ToArray());
        Assert.Single(log.WithId(2003));
    }

    [Fact]
    public async Task A_tampered_package_is_refused_by_the_source_and_by_the_engine_reader()
    {
        var container = await azurite.CreateContainerAsync();
        var original = Zip(1);
        var published = await new BlobArtifactPublisher(container).PublishAsync(Build("5"), new MemoryStream(original));
        var log = new LogProbe<BlobArtifactSource>();
        var source = new BlobArtifactSource(container, logger: log);

        // Untampered, both accept it: the refusal below is about the bytes, not the setup.
        Assert.Equal(published.Sha256, (await source.ReadPackageAsync(Build("5"))).Sha256);
        await using (var intact = await source.OpenAsync(Build("5")))
        {
            Assert.Equal(published.Sha256, (await PackageReader.ReadAsync(intact)).Sha256);
        }

        // Same length, other bytes, metadata keeps the old hash.
        var tampered = Zip(2);
        Assert.Equal(original.Length, tampered.Length);
        await container.GetBlobClient("5.zip").UploadAsync(
            BinaryData.FromBytes(tampered),
            new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["sha256"] = published.Sha256 } });

        var refused = await Assert.ThrowsAsync<InvalidPackageException>(() => source.ReadPackageAsync(Build("5")));
        Assert.Equal(Build("5"), refused.Build);
        Assert.Contains(published.Sha256, refused.Message, StringComparison.Ordinal);
        Assert.Single(log.WithId(2004));

        await using var opened = await source.OpenAsync(Build("5"));
        Assert.Equal(published.Sha256, opened.Info.Sha256);
        await Assert.ThrowsAsync<InvalidPackageException>(() => PackageReader.ReadAsync(opened));
    }

    [Fact]
    public async Task Opening_a_missing_build_throws_BuildNotFoundException()
    {
        var container = await azurite.CreateContainerAsync();
        var source = new BlobArtifactSource(container);

        var missing = await Assert.ThrowsAsync<BuildNotFoundException>(() => source.OpenAsync(Build("99")));

        Assert.Equal(Build("99"), missing.Build);
        Assert.Contains(container.Name, missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_container_gives_ArtifactStoreException_naming_it()
    {
        var name = AzuriteFixture.NewContainerName("missing");
        var container = azurite.ServiceClient.GetBlobContainerClient(name);
        var source = new BlobArtifactSource(container);
        var publisher = new BlobArtifactPublisher(container);

        var onList = await Assert.ThrowsAsync<ArtifactStoreException>(() => source.ListAsync().ToListAsync().AsTask());
        var onOpen = await Assert.ThrowsAsync<ArtifactStoreException>(() => source.OpenAsync(Build("1")));
        var onPublish = await Assert.ThrowsAsync<ArtifactStoreException>(() => publisher.PublishAsync(Build("1"), new MemoryStream(Zip(1))));
        var onNewest = await Assert.ThrowsAsync<ArtifactStoreException>(() => publisher.GetNewestAsync());

        Assert.All([onList, onOpen, onPublish, onNewest], e => Assert.Contains($"'{name}' does not exist", e.Message, StringComparison.Ordinal));
        Assert.False(await container.ExistsAsync(), "Neither side creates the container unless told to.");
    }

    [Fact]
    public async Task A_source_over_an_empty_container_lists_nothing()
    {
        var container = await azurite.CreateContainerAsync();

        Assert.Empty(await new BlobArtifactSource(container).ListAsync().ToListAsync());
        Assert.Null(await new BlobArtifactPublisher(container).GetNewestAsync());
    }

    [Fact]
    public async Task An_unreachable_account_gives_StoreUnavailableException_naming_the_container_endpoint_and_operation_within_the_bound()
    {
        var container = AzuriteFixture.Unreachable(TimeSpan.FromSeconds(4)).GetBlobContainerClient("iomtconnector");
        var source = new BlobArtifactSource(container);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var onList = await Assert.ThrowsAsync<StoreUnavailableException>(() => source.ListAsync().ToListAsync().AsTask());
        var onRead = await Assert.ThrowsAsync<StoreUnavailableException>(() => source.ReadPackageAsync(Build("1")));

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(8), "Each failed within the configured 4 s.");
        Assert.All([onList, onRead], e =>
        {
            Assert.Equal(StoreUnavailableException.ArtifactContainer, e.Store);
            Assert.Equal(container.Uri.AbsoluteUri, e.Endpoint);
            Assert.True(e.IsTransient);
            Assert.StartsWith($"The artifact container at {container.Uri.AbsoluteUri} is unavailable: could not ", e.Message, StringComparison.Ordinal);
        });
        Assert.Contains("could not list the builds", onList.Message, StringComparison.Ordinal);
        Assert.Contains("could not open build 1", onRead.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_storage_service_that_stops_answering_gives_StoreUnavailableException_within_the_bound()
    {
        var container = await azurite.CreateContainerAsync();
        await new BlobArtifactPublisher(container).PublishAsync(Build("1"), new MemoryStream(Zip(1)));
        await using var relay = IoMT.Deployment.Testing.TcpRelay.Start(azurite.ServiceUri.Port);
        var source = new BlobArtifactSource(AzuriteFixture.ThroughRelay(relay, BlobClientTimeouts.Bound(AzuriteFixture.ClientOptions(), TimeSpan.FromSeconds(4))).GetBlobContainerClient(container.Name));
        Assert.Single(await source.ListAsync().ToListAsync());

        relay.Mode = IoMT.Deployment.Testing.RelayMode.Hold;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => source.ListAsync().ToListAsync().AsTask());

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(4), "Failed within the configured bound.");
        Assert.Contains("could not list the builds (4 attempts; the last: no answer in time)", error.Message, StringComparison.Ordinal);
    }
}
