using System.Globalization;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using IoMT.Deployment.Benchmarks.Fakes;
using IoMT.Deployment.Benchmarks.Harness;
using IoMT.Deployment.Blobs;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Benchmarks.Targets;

/// <summary>
/// Target 5: publishing a 100 MB package to Azurite (blob service, in memory, started like the Blob tests start it)
/// through <see cref="BlobArtifactPublisher"/>, against a bare <see cref="BlobClient.UploadAsync(Stream, BlobUploadOptions, CancellationToken)"/>
/// of the same bytes with the same transfer options (block size, single-upload threshold, concurrency, MD5 validation)
/// on the same client.
/// </summary>
internal static class DeliveryTarget
{
    private const double Limit = 0.9;
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static async Task<TargetResult> RunAsync(bool quick)
    {
        var size = (quick ? 20 : 100) * 1024 * 1024;
        var rounds = quick ? 2 : 3;
        var script = TestPaths.RequireNodeModule("azurite/dist/src/blob/main.js");
        var port = FreePort.Next();
        var workingDirectory = Path.Combine(Path.GetTempPath(), "iomt-bench-azurite-" + Environment.ProcessId);
        Directory.CreateDirectory(workingDirectory);
        try
        {
            await using var azurite = await NodeServer.StartAsync(
                script,
                ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
                port,
                workingDirectory: workingDirectory);
            var clientOptions = new BlobClientOptions();
            clientOptions.TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.MD5; // Azurite has no CRC64
            var service = new BlobServiceClient(
                $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
                clientOptions);
            var container = service.GetBlobContainerClient("iomtconnector");
            await container.CreateAsync();
            var publisherOptions = new BlobArtifactOptions();
            var publisher = new BlobArtifactPublisher(container, publisherOptions);
            var transfer = new StorageTransferOptions
            {
                InitialTransferSize = publisherOptions.SingleUploadThreshold,
                MaximumTransferSize = publisherOptions.UploadBlockSize,
                MaximumConcurrency = publisherOptions.UploadConcurrency,
            };

            var package = new byte[size];
            new Random(5).NextBytes(package);
            var round = 0;

            // Warm-up with a small package: JIT, connections, Azurite's own warm-up.
            await PublishAsync(publisher, container, package.AsMemory(0, 1024 * 1024).ToArray(), ++round);
            await UploadAsync(container, transfer, package.AsMemory(0, 1024 * 1024).ToArray(), ++round);

            var published = new List<(RunCost Cost, string Passes)>();
            var uploaded = new List<RunCost>();
            for (var i = 0; i < rounds; i++)
            {
                uploaded.Add(await UploadAsync(container, transfer, package, ++round));
                published.Add(await PublishAsync(publisher, container, package, ++round));
            }

            var bestPublish = published.Min(c => c.Cost.Elapsed);
            var bestUpload = uploaded.Min(c => c.Elapsed);
            var ratio = bestUpload / bestPublish;
            var mb = size / 1024.0 / 1024.0;
            var result = new TargetResult(
                5,
                "Delivery",
                $"{Fmt.X(ratio)} bare upload throughput",
                $">= {Limit:0.0}x",
                TargetResult.Verdict(ratio >= Limit),
                $"{Fmt.N(mb, "0")} MB to Azurite 3.37 (in memory, loopback HTTP): BlobArtifactPublisher {Fmt.N(mb / bestPublish.TotalSeconds)} MB/s, bare BlobClient.UploadAsync {Fmt.N(mb / bestUpload.TotalSeconds)} MB/s; "
                + $"transfer options {transfer.InitialTransferSize / 1024 / 1024} MB single-upload threshold, {transfer.MaximumTransferSize / 1024 / 1024} MB blocks, concurrency {transfer.MaximumConcurrency}, MD5 per request; best of {rounds}");
            foreach (var cost in uploaded)
            {
                result.Details.Add($"bare BlobClient.UploadAsync: {Fmt.Cost(cost, 1)}");
            }

            foreach (var (cost, passes) in published)
            {
                result.Details.Add($"BlobArtifactPublisher.PublishAsync: {Fmt.Cost(cost, 1)}; its reads of the package: {passes}");
            }

#pragma warning disable CA5351 // MD5 timed because the publisher computes it (the blob's Content-MD5)
            var md5 = System.Security.Cryptography.HashAlgorithmName.MD5;
#pragma warning restore CA5351
            var sha256 = System.Security.Cryptography.HashAlgorithmName.SHA256;
            var both = await HashingCostAsync(package, sha256, md5);
            var shaOnly = await HashingCostAsync(package, sha256);
            var md5Only = await HashingCostAsync(package, md5);
            result.Details.Add($"the publisher's pass over the whole package before its upload, timed alone: SHA-256 + MD5 {Fmt.Ms(both)} (SHA-256 alone {Fmt.Ms(shaOnly)}, MD5 alone {Fmt.Ms(md5Only)}); "
                + $"the bare upload takes {Fmt.Ms(bestUpload)}, so this pass alone costs {Fmt.X(bestUpload / (bestUpload + both))} of its throughput");
            return result;
        }
        finally
        {
            try
            {
                Directory.Delete(workingDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(RunCost Cost, string Passes)> PublishAsync(BlobArtifactPublisher publisher, BlobContainerClient container, byte[] package, int round)
    {
        var build = BuildNumber.Parse("20250301." + round.ToString(CultureInfo.InvariantCulture));
        var stream = new ObservedStream(package);
        var (cost, result) = await Measure.RunAsync(async () =>
        {
            using (stream)
            {
                return await publisher.PublishAsync(build, stream);
            }
        });
        if (result.Outcome != PublishOutcome.Created || result.Size != package.Length)
        {
            throw new InvalidOperationException($"The publisher did not create build {build}: {result.Outcome}, {result.Size} bytes.");
        }

        await CheckAndDeleteAsync(container.GetBlobClient(build.PackageFileName), package.Length);
        var passes = string.Join(", then ", stream.Passes.Select((p, i) => $"pass {i + 1} {Fmt.Ms(p.Start)}-{Fmt.Ms(p.End)} ({Fmt.Mb(p.Bytes)})"));
        return (cost, passes);
    }

    private static async Task<RunCost> UploadAsync(BlobContainerClient container, StorageTransferOptions transfer, byte[] package, int round)
    {
        var blob = container.GetBlobClient($"bare-{round}.bin");
        var (cost, _) = await Measure.RunAsync(async () =>
        {
            using var stream = new MemoryStream(package, writable: false);
            return await blob.UploadAsync(stream, new BlobUploadOptions
            {
                TransferOptions = transfer,
                TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
            });
        });
        await CheckAndDeleteAsync(blob, package.Length);
        return cost;
    }

    private static async Task CheckAndDeleteAsync(BlobClient blob, long length)
    {
        var properties = await blob.GetPropertiesAsync();
        if (properties.Value.ContentLength != length)
        {
            throw new InvalidOperationException($"Blob {blob.Name} holds {properties.Value.ContentLength} bytes, not {length}.");
        }

        // Azurite keeps blobs in memory: free it for the next round.
        await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = ETag.All });
    }

    /// <summary>Times one pass over the package feeding the given hashes, as the publisher's pre-upload pass reads it (80 KB at a time).</summary>
    private static async Task<TimeSpan> HashingCostAsync(byte[] package, params System.Security.Cryptography.HashAlgorithmName[] algorithms)
    {
        var hashes = algorithms.Select(System.Security.Cryptography.IncrementalHash.CreateHash).ToList();
        using var stream = new MemoryStream(package, writable: false);
        var buffer = new byte[81920];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            foreach (var hash in hashes)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        foreach (var hash in hashes)
        {
            _ = hash.GetHashAndReset();
            hash.Dispose();
        }

        return clock.Elapsed;
    }
}
