using System.Buffers.Binary;
using System.Security.Cryptography;
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

    [Theory]
    [InlineData(1024)]
    [InlineData(600 * 1024)]
    public async Task Publish_same_bytes_twice_is_a_no_op_without_an_upload(int size)
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(1, size);
        await new BlobArtifactPublisher(container, BlockOptions()).PublishAsync(Build("3"), new MemoryStream(bytes));
        var etag = (await container.GetBlobClient("3.zip").GetPropertiesAsync()).Value.ETag;
        var recorder = new RequestRecorder();
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(recorder).GetBlobContainerClient(container.Name), BlockOptions());

        var again = await publisher.PublishAsync(Build("3"), new MemoryStream(bytes));

        Assert.Equal(PublishOutcome.AlreadyExists, again.Outcome);
        Assert.Equal(ContentHash.Sha256Hex(bytes), again.Sha256);
        Assert.Equal(bytes.Length, again.Size);
        Assert.Equal(etag, (await container.GetBlobClient("3.zip").GetPropertiesAsync()).Value.ETag);
        Assert.DoesNotContain(recorder.Requests, r => r.Method == "PUT");
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
    public async Task A_large_package_is_staged_in_md5_validated_blocks_of_its_own_and_committed_only_if_absent_with_its_sha256()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(21, payloadSize: 600 * 1024);
        var recorder = new RequestRecorder();
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(recorder).GetBlobContainerClient(container.Name), BlockOptions(concurrency: 3));

        var result = await publisher.PublishAsync(Build("21"), new MemoryStream(bytes));

        var sha256 = ContentHash.Sha256Hex(bytes);
        Assert.Equal(new PublishResult(Build("21"), sha256, bytes.Length, PublishOutcome.Created), result);
        var requests = recorder.Requests;
        Assert.DoesNotContain(requests, r => r.Method == "PUT" && string.IsNullOrEmpty(r.Uri.Query)); // no whole-blob PUT
        Assert.DoesNotContain(requests, r => r.Headers.Keys.Any(k => k.Contains("crc64", StringComparison.OrdinalIgnoreCase)));

        // Every block: a 64-character id made of this attempt's prefix and the block's index, and the MD5 of its bytes.
        var stages = requests.Where(BlobRequests.IsStageBlock).ToList();
        var blockCount = (bytes.Length + BlockSize - 1) / BlockSize;
        Assert.Equal(blockCount, stages.Count);
        var ids = stages.Select(BlobRequests.BlockId).ToList();
        Assert.All(ids, id => Assert.Equal(64, id.Length));
        Assert.Single(ids.Select(id => Convert.ToHexString(Convert.FromBase64String(id)[..16])).Distinct());
        var indexes = new List<int>();
        foreach (var stage in stages)
        {
            var index = (int)BinaryPrimitives.ReadInt64BigEndian(Convert.FromBase64String(BlobRequests.BlockId(stage)).AsSpan(16));
            indexes.Add(index);
            var block = bytes.AsSpan(index * BlockSize, Math.Min(BlockSize, bytes.Length - (index * BlockSize)));
#pragma warning disable CA5351 // MD5 is the transfer checksum, checked here as such.
            Assert.Equal(Convert.ToBase64String(MD5.HashData(block)), stage.Headers["Content-MD5"]);
#pragma warning restore CA5351
        }

        Assert.Equal(Enumerable.Range(0, blockCount), indexes.Order());

        // One commit, of those blocks in order, only if the blob is absent, with the SHA-256 and the content type.
        var commit = Assert.Single(requests, BlobRequests.IsCommit);
        Assert.Equal("*", commit.Headers["If-None-Match"]);
        Assert.Equal(sha256, commit.Headers["x-ms-meta-sha256"]);
        Assert.Equal("application/zip", commit.Headers["x-ms-blob-content-type"]);
        var committed = (await container.GetBlockBlobClient("21.zip").GetBlockListAsync(BlockListTypes.Committed)).Value.CommittedBlocks;
        Assert.Equal(stages.OrderBy(s => indexes[stages.IndexOf(s)]).Select(BlobRequests.BlockId), committed.Select(b => b.Name));
        var properties = (await container.GetBlobClient("21.zip").GetPropertiesAsync()).Value;
        Assert.Equal(sha256, properties.Metadata["sha256"]);
        Assert.Equal("application/zip", properties.ContentType);
        Assert.Equal(bytes, (await container.GetBlobClient("21.zip").DownloadContentAsync()).Value.Content.ToArray());

        // Another attempt stages under another prefix.
        var again = new RequestRecorder();
        await new BlobArtifactPublisher(azurite.CreateServiceClient(again).GetBlobContainerClient(container.Name), BlockOptions())
            .PublishAsync(Build("22"), new MemoryStream(bytes));
        var otherPrefix = Convert.FromBase64String(BlobRequests.BlockId(again.Requests.First(BlobRequests.IsStageBlock)))[..16];
        Assert.NotEqual(Convert.FromBase64String(ids[0])[..16], otherPrefix);
    }

    // Both publishers pass the existence check and stage every block before either commits, in this order: A stages, B
    // stages (after A has asked to commit), A commits, then B. Were block ids shared between attempts, B's blocks would
    // replace A's and A would commit B's bytes under its own SHA-256. (A's commit also discards B's uncommitted blocks, so
    // B's commit fails even without If-None-Match; the race test above checks the condition.)
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Concurrent_publishers_of_one_large_build_stage_apart_and_exactly_one_creates_it(bool sameBytes)
    {
        var container = await azurite.CreateContainerAsync();
        var ours = Zip(1, 600 * 1024);
        var theirs = sameBytes ? Zip(1, 600 * 1024) : Zip(2, 600 * 1024);
        Step? secondCommit = null;
        var firstCommit = new Step(BlobRequests.IsCommit, () => secondCommit!.Arrived);
        var secondStages = new Step(BlobRequests.IsStageBlock, () => firstCommit.Arrived);
        secondCommit = new Step(BlobRequests.IsCommit, () => firstCommit.Answered);
        var recorder = new RequestRecorder();
        var first = new BlobArtifactPublisher(azurite.CreateServiceClient(firstCommit, recorder).GetBlobContainerClient(container.Name), BlockOptions(concurrency: 2));
        var second = new BlobArtifactPublisher(azurite.CreateServiceClient(secondStages, secondCommit, recorder).GetBlobContainerClient(container.Name), BlockOptions(concurrency: 2));

        var firstPublish = Task.Run(() => first.PublishAsync(Build("8"), new MemoryStream(ours)));
        var secondPublish = Task.Run(() => second.PublishAsync(Build("8"), new MemoryStream(theirs)));

        Assert.Equal(PublishOutcome.Created, (await firstPublish).Outcome);
        if (sameBytes)
        {
            Assert.Equal(PublishOutcome.AlreadyExists, (await secondPublish).Outcome);
        }
        else
        {
            var conflict = await Assert.ThrowsAsync<ArtifactConflictException>(() => secondPublish);
            Assert.Equal(ContentHash.Sha256Hex(ours), conflict.ExistingSha256);
            Assert.Equal(ContentHash.Sha256Hex(theirs), conflict.NewSha256);
        }

        Assert.Equal(2, recorder.Requests.Count(BlobRequests.IsCommit));
        Assert.Equal(2 * ((ours.Length + BlockSize - 1) / BlockSize), recorder.Requests.Count(BlobRequests.IsStageBlock));
        var stored = (await container.GetBlobClient("8.zip").DownloadContentAsync()).Value;
        Assert.Equal(ours, stored.Content.ToArray());
        Assert.Equal(ContentHash.Sha256Hex(ours), stored.Details.Metadata["sha256"]);
    }

    // The first stages are held until as many are in flight as allowed: a reader that did not wait for a free slot would
    // read the whole package meanwhile.
    [Fact]
    public async Task A_large_package_is_read_at_most_one_block_ahead_of_the_stages_in_flight()
    {
        const int Concurrency = 3;
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(7, payloadSize: 1024 * 1024);
        var answered = new AnswerCounter(BlobRequests.IsStageBlock);
        var held = new HoldUntilArrived(BlobRequests.IsStageBlock, Concurrency);
        using var stream = new BoundedReadStream(bytes, () => (answered.Answered + Concurrency + 1L) * BlockSize);
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(held, answered).GetBlobContainerClient(container.Name), BlockOptions(Concurrency));

        var result = await publisher.PublishAsync(Build("7"), stream);

        Assert.Equal(PublishOutcome.Created, result.Outcome);
        Assert.Equal(0, stream.Overruns);
        Assert.Equal(bytes.Length, stream.BytesRead);
        Assert.Equal(bytes, (await container.GetBlobClient("7.zip").DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task A_refused_block_fails_the_publish_commits_nothing_and_a_new_attempt_succeeds()
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(5, payloadSize: 600 * 1024);
        var refuseThird = new FailNth(BlobRequests.IsStageBlock, 3);
        var recorder = new RequestRecorder();
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(refuseThird, recorder).GetBlobContainerClient(container.Name), BlockOptions(concurrency: 2));

        var failure = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => publisher.PublishAsync(Build("5"), new MemoryStream(bytes)));
        Assert.Contains("publish build 5", failure.Operation, StringComparison.Ordinal);

        Assert.Contains("403", failure.Message, StringComparison.Ordinal);
        Assert.True(refuseThird.Failed);
        Assert.DoesNotContain(recorder.Requests, BlobRequests.IsCommit);
        Assert.False(await container.GetBlobClient("5.zip").ExistsAsync());

        // The failed attempt's uncommitted blocks do not get in the way of the next one.
        var retried = await publisher.PublishAsync(Build("5"), new MemoryStream(bytes));
        Assert.Equal(PublishOutcome.Created, retried.Outcome);
        Assert.Equal(bytes, (await container.GetBlobClient("5.zip").DownloadContentAsync()).Value.Content.ToArray());
    }

    // A stream that cannot seek is read block by block; it goes up in one request when it ends within the first block
    // (exactly one full block included) and the single-upload threshold.
    [Theory]
    [InlineData(1024, false)]
    [InlineData(BlockSize, false)]
    [InlineData(300 * 1024, true)]
    public async Task A_non_seekable_package_stream_is_published(int size, bool inBlocks)
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        var recorder = new RequestRecorder();
        var publisher = new BlobArtifactPublisher(azurite.CreateServiceClient(recorder).GetBlobContainerClient(container.Name), BlockOptions());

        var result = await publisher.PublishAsync(Build("6"), new ForwardOnlyStream(bytes));

        Assert.Equal(new PublishResult(Build("6"), ContentHash.Sha256Hex(bytes), bytes.Length, PublishOutcome.Created), result);
        Assert.Equal(inBlocks, recorder.Requests.Any(BlobRequests.IsCommit));
        Assert.Equal(inBlocks ? (size + BlockSize - 1) / BlockSize : 0, recorder.Requests.Count(BlobRequests.IsStageBlock));
        Assert.Equal(bytes, (await container.GetBlobClient("6.zip").DownloadContentAsync()).Value.Content.ToArray());
        Assert.Equal(ContentHash.Sha256Hex(bytes), (await container.GetBlobClient("6.zip").GetPropertiesAsync()).Value.Metadata["sha256"]);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(600 * 1024)]
    public async Task Publish_reads_the_package_from_the_stream_position(int size)
    {
        var container = await azurite.CreateContainerAsync();
        var bytes = Zip(4, size);
        var stream = new MemoryStream([0xFF, 0xFE, .. bytes]) { Position = 2 };

        var result = await new BlobArtifactPublisher(container, BlockOptions()).PublishAsync(Build("2"), stream);

        Assert.Equal(ContentHash.Sha256Hex(bytes), result.Sha256);
        Assert.Equal(bytes.Length, result.Size);
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
        var result = await new BlobArtifactPublisher(container, new BlobArtifactOptions { CreateIfMissing = true })
            .PublishAsync(Build("1"), new MemoryStream(Zip(1)));

        Assert.Equal(PublishOutcome.Created, result.Outcome);
        Assert.True(await container.GetBlobClient("1.zip").ExistsAsync());
    }

    private const int BlockSize = 64 * 1024;

    /// <summary>Blocks of 64 KiB (the smallest allowed) above a 64 KiB threshold, so small test packages go up in blocks.</summary>
    private static BlobArtifactOptions BlockOptions(int concurrency = 4) =>
        new() { SingleUploadThreshold = BlockSize, UploadBlockSize = BlockSize, UploadConcurrency = concurrency };

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

    /// <summary>A seekable package that counts the reads that end past an allowed bound.</summary>
    private sealed class BoundedReadStream(byte[] content, Func<long> allowed) : Stream
    {
        private readonly MemoryStream _inner = new(content, writable: false);
        private long _bytesRead;
        private int _overruns;

        public long BytesRead => Interlocked.Read(ref _bytesRead);

        public int Overruns => Volatile.Read(ref _overruns);

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => _inner.Length;

        public override long Position { get => _inner.Position; set => _inner.Position = value; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = _inner.Read(buffer, offset, count);
            if (Interlocked.Add(ref _bytesRead, read) > allowed())
            {
                Interlocked.Increment(ref _overruns);
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
