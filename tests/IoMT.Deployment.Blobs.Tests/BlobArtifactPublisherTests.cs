using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using static IoMT.Deployment.Blobs.Tests.TestPackages;

namespace IoMT.Deployment.Blobs.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class BlobArtifactPublisherTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Publish_writes_the_package_with_its_sha256_as_metadata()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(1);
        var publisher = new BlobArtifactPublisher(container);

        var result = await publisher.PublishAsync(Build("20201105.3"), new MemoryStream(bytes));

        Assert.Equal(new PublishResult(Build("20201105.3"), ContentHash.Sha256Hex(bytes), bytes.Length, PublishOutcome.Created), result);
        var blob = container.GetBlobClient("20201105.3.zip");
        var properties = (await blob.GetPropertiesAsync()).Value;
        Assert.Equal(ContentHash.Sha256Hex(bytes), properties.Metadata["sha256"]);
        Assert.Equal("application/zip", properties.ContentType);
#pragma warning disable CA5351 // MD5 is the blob's transport checksum, checked here as such.
        Assert.Equal(System.Security.Cryptography.MD5.HashData(bytes), properties.ContentHash);
#pragma warning restore CA5351
        Assert.Equal(bytes, (await blob.DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Publish_same_bytes_twice_is_a_no_op()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(1);
        var publisher = new BlobArtifactPublisher(container);
        await publisher.PublishAsync(Build("3"), new MemoryStream(bytes));
        var etag = (await container.GetBlobClient("3.zip").GetPropertiesAsync()).Value.ETag;

        var again = await publisher.PublishAsync(Build("3"), new MemoryStream(bytes));

        Assert.Equal(PublishOutcome.AlreadyExists, again.Outcome);
        Assert.Equal(ContentHash.Sha256Hex(bytes), again.Sha256);
        Assert.Equal(etag, (await container.GetBlobClient("3.zip").GetPropertiesAsync()).Value.ETag);
    }

    [Fact]
    public async Task Publish_other_bytes_under_a_delivered_build_is_a_conflict_and_keeps_the_original()
    {
        var container = await azurite.CreateContainerAsync();
        var original = Zip(1);
        var publisher = new BlobArtifactPublisher(container);
        await publisher.PublishAsync(Build("3"), new MemoryStream(original));

        var conflict = await Assert.ThrowsAsync<ArtifactConflictException>(() => publisher.PublishAsync(Build("3"), new MemoryStream(Zip(2))));

        Assert.Equal(Build("3"), conflict.Build);
        Assert.Equal(ContentHash.Sha256Hex(original), conflict.ExistingSha256);
        Assert.Equal(ContentHash.Sha256Hex(Zip(2)), conflict.NewSha256);
        Assert.Equal(original, (await container.GetBlobClient("3.zip").DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task A_build_delivered_without_metadata_is_compared_by_its_bytes()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(1);
        await container.UploadBlobAsync("4.zip", BinaryData.FromBytes(bytes));
        var publisher = new BlobArtifactPublisher(container);

        Assert.Equal(PublishOutcome.AlreadyExists, (await publisher.PublishAsync(Build("4"), new MemoryStream(bytes))).Outcome);
        await Assert.ThrowsAsync<ArtifactConflictException>(() => publisher.PublishAsync(Build("4"), new MemoryStream(Zip(2))));
    }

    [Fact]
    public async Task Concurrent_publishers_of_one_build_never_both_create_it()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(1, payloadSize: 256 * 1024);
        var publishers = Enumerable.Range(0, 4)
            .Select(_ => new BlobArtifactPublisher(azurite.CreateServiceClient().GetBlobContainerClient(container.Name)))
            .ToList();

        var results = await Task.WhenAll(publishers.Select(p => Task.Run(() => p.PublishAsync(Build("8"), new MemoryStream(bytes)))));

        Assert.Single(results, r => r.Outcome == PublishOutcome.Created);
        Assert.Equal(3, results.Count(r => r.Outcome == PublishOutcome.AlreadyExists));
        Assert.Equal(bytes, (await container.GetBlobClient("8.zip").DownloadContentAsync()).Value.Content.ToArray());
    }

    // Another publisher commits the build after our existence check and before our write: If-None-Match keeps its bytes
    // and we report what is there. Deterministic: the competing write is made just before our first PUT.
    [Theory]
    [InlineData(false, 1024)]
    [InlineData(true, 1024)]
    [InlineData(false, 600 * 1024)]
    [InlineData(true, 600 * 1024)]
    public async Task A_publisher_that_loses_the_race_gets_no_op_or_conflict_never_an_overwrite(bool sameBytes, int size)
    {
        var container = await azurite.CreateContainerAsync();
        var ours = Zip(1, size);
        var theirs = sameBytes ? ours : Zip(2, size);
        var competitor = new BlobArtifactPublisher(container);
        var race = new InterceptBeforeFirst(
            m => m.Request.Method == RequestMethod.Put && m.Request.Uri.Path.EndsWith("/9.zip", StringComparison.Ordinal),
            async () => Assert.Equal(PublishOutcome.Created, (await competitor.PublishAsync(Build("9"), new MemoryStream(theirs))).Outcome));
        var recorder = new RequestRecorder();
        // One block at a time, so the competing write lands before any of our blocks is staged.
        var options = new BlobArtifactOptions { SingleUploadThreshold = 256 * 1024, UploadBlockSize = 256 * 1024, UploadConcurrency = 1 };
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(race, recorder).GetBlobContainerClient(container.Name), options);

        if (sameBytes)
        {
            Assert.Equal(PublishOutcome.AlreadyExists, (await publisher.PublishAsync(Build("9"), new MemoryStream(ours))).Outcome);
        }
        else
        {
            var conflict = await Assert.ThrowsAsync<ArtifactConflictException>(() => publisher.PublishAsync(Build("9"), new MemoryStream(ours)));
            Assert.Equal(ContentHash.Sha256Hex(theirs), conflict.ExistingSha256);
        }

        Assert.True(race.Fired);
        Assert.Contains(recorder.Requests, r => r.Method == "PUT" && r.Headers.TryGetValue("If-None-Match", out var value) && value == "*");
        var stored = (await container.GetBlobClient("9.zip").DownloadContentAsync()).Value;
        Assert.Equal(theirs, stored.Content.ToArray());
    }

    [Fact]
    public async Task A_20_MB_package_goes_up_in_md5_validated_blocks_and_reads_back_identically()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(20, payloadSize: 20 * 1024 * 1024);
        var recorder = new RequestRecorder();
        var options = new BlobArtifactOptions { UploadBlockSize = 4 * 1024 * 1024, SingleUploadThreshold = 4 * 1024 * 1024, UploadConcurrency = 4 };
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(recorder).GetBlobContainerClient(container.Name), options);

        var result = await publisher.PublishAsync(Build("20"), new MemoryStream(bytes));

        Assert.Equal(PublishOutcome.Created, result.Outcome);
        var blocks = (await container.GetBlockBlobClient("20.zip").GetBlockListAsync(BlockListTypes.Committed)).Value.CommittedBlocks.ToList();
        Assert.Equal(6, blocks.Count); // 20 MiB of payload plus the zip's headers, in 4 MiB blocks
        Assert.All(blocks.SkipLast(1), b => Assert.Equal(4 * 1024 * 1024, b.SizeLong));

        var blockPuts = recorder.Requests.Where(r => r.HasQuery("comp=block&")).ToList();
        Assert.Equal(6, blockPuts.Count);
        Assert.All(blockPuts, r => Assert.True(r.Headers.ContainsKey("Content-MD5"), "Every block carries an MD5 transfer checksum."));
        Assert.DoesNotContain(recorder.Requests, r => r.Headers.Keys.Any(k => k.Contains("crc64", StringComparison.OrdinalIgnoreCase)));

        var package = await new BlobArtifactSource(container).ReadPackageAsync(Build("20"));
        Assert.Equal(result.Sha256, package.Sha256);
        Assert.True(bytes.AsSpan().SequenceEqual(package.Content.Span));
    }

    [Fact]
    public async Task A_non_seekable_package_stream_is_published()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(3, payloadSize: 300 * 1024);
        var options = new BlobArtifactOptions { UploadBlockSize = 128 * 1024, SingleUploadThreshold = 128 * 1024 };

        var result = await new BlobArtifactPublisher(container, options).PublishAsync(Build("6"), new ForwardOnlyStream(bytes));

        Assert.Equal(PublishOutcome.Created, result.Outcome);
        Assert.Equal(bytes.Length, result.Size);
        Assert.Equal(bytes, (await container.GetBlobClient("6.zip").DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Publish_reads_the_package_from_the_stream_position()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(4);
        var stream = new MemoryStream([0xFF, 0xFE, .. bytes]) { Position = 2 };

        var result = await new BlobArtifactPublisher(container).PublishAsync(Build("2"), stream);

        Assert.Equal(ContentHash.Sha256Hex(bytes), result.Sha256);
        Assert.Equal(bytes, (await container.GetBlobClient("2.zip").DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task GetNewest_gives_the_highest_build_and_its_hash()
    {
        var container = await azurite.CreateContainerAsync();
        var publisher = new BlobArtifactPublisher(container);
        await publisher.PublishAsync(Build("9"), new MemoryStream(Zip(9)));
        var ten = await publisher.PublishAsync(Build("10"), new MemoryStream(Zip(10)));
        await publisher.PublishAsync(Build("2"), new MemoryStream(Zip(2)));
        await container.UploadBlobAsync("latest.zip", BinaryData.FromBytes(Zip(11)));

        var newest = await publisher.GetNewestAsync();

        Assert.NotNull(newest);
        Assert.Equal(Build("10"), newest.Build);
        Assert.Equal(ten.Sha256, newest.Sha256);

        // A newer build delivered without metadata is hashed.
        await container.UploadBlobAsync("10.1.zip", BinaryData.FromBytes(Zip(101)));
        var hashed = await publisher.GetNewestAsync();
        Assert.Equal(Build("10.1"), hashed!.Build);
        Assert.Equal(ContentHash.Sha256Hex(Zip(101)), hashed.Sha256);
    }

    [Fact]
    public async Task The_publisher_creates_a_missing_container_only_when_told_to()
    {
        var container = azurite.ServiceClient.GetBlobContainerClient(AzuriteFixture.NewContainerName("new"));

        await Assert.ThrowsAsync<ArtifactStoreException>(() => new BlobArtifactPublisher(container).PublishAsync(Build("1"), new MemoryStream(Zip(1))));
        var result = await new BlobArtifactPublisher(container, new BlobArtifactOptions { CreateContainerIfMissing = true })
            .PublishAsync(Build("1"), new MemoryStream(Zip(1)));

        Assert.Equal(PublishOutcome.Created, result.Outcome);
        Assert.True(await container.GetBlobClient("1.zip").ExistsAsync());
    }

    private sealed class ForwardOnlyStream(byte[] content) : Stream
    {
        private readonly MemoryStream _inner = new(content);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
