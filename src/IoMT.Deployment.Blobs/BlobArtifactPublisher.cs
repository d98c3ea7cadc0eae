using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// The write side of the artifact container on Azure Blob Storage, for the delivery step: writes <c>{build}.zip</c>
/// only if it does not exist yet (<c>If-None-Match: *</c>), records its SHA-256 as blob metadata and validates every
/// request with MD5. A package above <see cref="BlobArtifactOptions.SingleUploadThreshold"/> is read once, in blocks
/// that are hashed as they are read and staged in parallel, and committed with its SHA-256 at the end.
/// </summary>
public sealed class BlobArtifactPublisher : IArtifactPublisher
{
    private const string PackageContentType = "application/zip";

    /// <summary>The most blocks one block blob can hold.</summary>
    private const int MaxBlockCount = 50_000;

    /// <summary>The largest block held in memory (the largest array <see cref="ArrayPool{T}.Shared"/> pools).</summary>
    private const int MaxBufferedBlockSize = 1024 * 1024 * 1024;

    // MD5 per request, not CRC64: Azurite does not support CRC64 and Auto may choose it.
    private static readonly UploadTransferValidationOptions Md5PerRequest = new() { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 };

    private readonly ArtifactContainer _container;
    private readonly ILogger _logger;

    /// <summary>Creates the publisher over a container.</summary>
    /// <param name="container">The artifact container; its name wins over <see cref="BlobArtifactOptions.ContainerName"/>.</param>
    /// <param name="options">The options (block size, concurrency, container creation); <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the message names the setting.</exception>
    public BlobArtifactPublisher(BlobContainerClient container, BlobArtifactOptions? options = null, ILogger<BlobArtifactPublisher>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _container = new ArtifactContainer(container, options ?? new BlobArtifactOptions(), _logger);
    }

    /// <summary>Gets the artifact container's name.</summary>
    public string ContainerName => _container.Name;

    /// <inheritdoc/>
    /// <remarks>
    /// An existing build is compared by hashing the offered package, without an upload. A package at or below
    /// <see cref="BlobArtifactOptions.SingleUploadThreshold"/> (for a stream that cannot seek: one that also fits one
    /// block) is hashed, then written in one request that also carries its whole MD5 (<c>Content-MD5</c>). A larger one is
    /// read once: each block of <see cref="BlobArtifactOptions.UploadBlockSize"/> is added to the SHA-256 and staged (up to
    /// <see cref="BlobArtifactOptions.UploadConcurrency"/> at a time, under block ids no other publish attempt uses), then
    /// the block list is committed with the SHA-256. Such a blob has no whole-package MD5; each request is MD5-validated
    /// and readers check the SHA-256.
    /// </remarks>
    public async Task<PublishResult> PublishAsync(BuildNumber build, Stream package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (build.IsDefault)
        {
            throw new ArgumentException("A build number is required.", nameof(build));
        }

        if (!package.CanRead)
        {
            throw new ArgumentException("The package stream cannot be read.", nameof(package));
        }

        var started = Stopwatch.GetTimestamp();
        var existing = await TryGetPropertiesAsync(build, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            var offered = await ContentHash.Sha256HexAsync(package, cancellationToken).ConfigureAwait(false);
            return await CompareWithExistingAsync(build, offered, existing, cancellationToken).ConfigureAwait(false);
        }

        Upload upload;
        try
        {
            upload = package.CanSeek && package.Length - package.Position <= _container.Options.SingleUploadThreshold
                ? await UploadWholeAsync(build, package, cancellationToken).ConfigureAwait(false)
                : await UploadInBlocksAsync(build, package, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ArtifactContainer.IsStoreFailure(ex, cancellationToken))
        {
            throw _container.StoreFailure(ex, $"publish build {build}");
        }

        if (upload.Conflict is not null)
        {
            // Another publisher wrote the build between our check and our commit; If-None-Match kept its bytes.
            existing = await TryGetPropertiesAsync(build, cancellationToken).ConfigureAwait(false)
                ?? throw new ArtifactStoreException(
                    upload.Conflict.ErrorCode == BlobErrorCode.InvalidBlockList
                        ? $"The blocks of build {build} staged in artifact container '{_container.Name}' were discarded before they could be committed, and no build {build} is there; nothing was written. Retry the delivery."
                        : $"Build {build} is being delivered to artifact container '{_container.Name}' by another publisher at this moment (its upload is not committed yet); nothing was written. Retry the delivery.",
                    upload.Conflict);
            return await CompareWithExistingAsync(build, upload.Sha256, existing, cancellationToken).ConfigureAwait(false);
        }

        Log.Published(_logger, build.ToString(), upload.Length, upload.Sha256, _container.Name, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new PublishResult(build, upload.Sha256, upload.Length, PublishOutcome.Created);
    }

    /// <inheritdoc/>
    /// <remarks>Lists the container; when the newest build has no recorded SHA-256 its package is read and hashed.</remarks>
    public async Task<ArtifactInfo?> GetNewestAsync(CancellationToken cancellationToken = default)
    {
        ArtifactInfo? newest = null;
        await foreach (var info in _container.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (newest is null || info.Build.CompareTo(newest.Build) > 0)
            {
                newest = info;
            }
        }

        return newest is null ? null : await _container.WithSha256Async(newest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a write was refused because the build exists (or appeared) meanwhile.</summary>
    private static bool IsAlreadyThere(RequestFailedException exception) =>
        exception.ErrorCode == BlobErrorCode.BlobAlreadyExists || exception.ErrorCode == BlobErrorCode.ConditionNotMet || exception.Status == 412;

    /// <summary>A package that fits one request, read and hashed before it is written in one request.</summary>
    private async Task<Upload> UploadWholeAsync(BuildNumber build, Stream package, CancellationToken cancellationToken)
    {
        var start = package.Position;
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = CreateMd5();
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        long length = 0;
        try
        {
            int read;
            while ((read = await package.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha256.AppendData(buffer, 0, read);
                md5.AppendData(buffer, 0, read);
                length += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var hash = Convert.ToHexStringLower(sha256.GetHashAndReset());
        package.Position = start;
        return new Upload(hash, length, await PutAsync(build, package, hash, md5.GetHashAndReset(), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Writes a whole package in one request (the content is seekable, so the pipeline can retry it).</summary>
    /// <returns><see langword="null"/> when written; the service's answer when the build already exists.</returns>
    private async Task<RequestFailedException?> PutAsync(BuildNumber build, Stream content, string sha256, byte[] md5, CancellationToken cancellationToken)
    {
        // BlockBlobClient.UploadAsync is one Put Blob request whatever the size (BlobClient.UploadAsync would stage blocks
        // under ids of its own from the threshold on).
        var upload = new BlobUploadOptions
        {
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            Metadata = Sha256Metadata(sha256),

            // The whole package's MD5 as a blob property, which downloaders can check; it costs nothing more at this size.
            HttpHeaders = new BlobHttpHeaders { ContentType = PackageContentType, ContentHash = md5 },
            TransferValidation = Md5PerRequest,
        };

        try
        {
            await _container.Client.GetBlockBlobClient(build.PackageFileName).UploadAsync(content, upload, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (RequestFailedException ex) when (IsAlreadyThere(ex))
        {
            return ex;
        }
    }

    /// <summary>
    /// Reads the package once, block by block: each block is added to the SHA-256 and staged, and the next one is read and
    /// hashed while at most <see cref="BlobArtifactOptions.UploadConcurrency"/> stages are in flight (so at most one more
    /// block buffer than that is held); then the block list is committed with the SHA-256 under <c>If-None-Match: *</c>. A
    /// stream that cannot seek goes up in one request instead when it turns out to fit one block and the single-upload threshold.
    /// </summary>
    private async Task<Upload> UploadInBlocksAsync(BuildNumber build, Stream package, CancellationToken cancellationToken)
    {
        var options = _container.Options;
        var blockSize = (int)Math.Min(options.UploadBlockSize, MaxBufferedBlockSize);
        var ready = new Queue<Block>(2);
        try
        {
            if (!package.CanSeek)
            {
                // Its length is known only by reading it: a first block, and a second when the first is full.
                var first = await ReadBlockAsync(package, blockSize, cancellationToken).ConfigureAwait(false);
                ready.Enqueue(first);
                if (first.Count <= options.SingleUploadThreshold)
                {
                    if (first.Count == blockSize)
                    {
                        var second = await ReadBlockAsync(package, blockSize, cancellationToken).ConfigureAwait(false);
                        if (second.Count == 0)
                        {
                            second.Return();
                        }
                        else
                        {
                            ready.Enqueue(second);
                        }
                    }

                    if (ready.Count == 1)
                    {
                        return await PutBlockAsync(build, first, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            return await StageAndCommitAsync(build, package, blockSize, ready, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            while (ready.TryDequeue(out var unsent))
            {
                unsent.Return();
            }
        }
    }

    private async Task<Upload> PutBlockAsync(BuildNumber build, Block block, CancellationToken cancellationToken)
    {
        var bytes = block.Buffer.AsSpan(0, block.Count);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
#pragma warning disable CA5351 // MD5 only as the blob's transport checksum (Content-MD5), never for integrity decisions.
        var md5 = MD5.HashData(bytes);
#pragma warning restore CA5351
        using var content = new MemoryStream(block.Buffer, 0, block.Count, writable: false);
        return new Upload(sha256, block.Count, await PutAsync(build, content, sha256, md5, cancellationToken).ConfigureAwait(false));
    }

    // ready: blocks already read (from a stream that cannot seek); they are taken out as they are staged.
    private async Task<Upload> StageAndCommitAsync(BuildNumber build, Stream package, int blockSize, Queue<Block> ready, CancellationToken cancellationToken)
    {
        var concurrency = _container.Options.UploadConcurrency;
        var blob = _container.Client.GetBlockBlobClient(build.PackageFileName);

        // Block ids of this attempt only: a concurrent publisher of the same build stages its own uncommitted blocks.
        var attempt = Guid.NewGuid();
        var ids = new List<string>();
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // The loop owns every buffer: the next block is read and hashed while the stages in flight run (one buffer more
        // than them), and a block's buffer goes back to the pool once its stage is over.
        var inFlight = new List<(Task Stage, Block Block)>(concurrency);
        Block? next = null;
        try
        {
            while (true)
            {
                next = ready.TryDequeue(out var read) ? read : await ReadBlockAsync(package, blockSize, abort.Token).ConfigureAwait(false);
                var block = next.Value;
                if (block.Count == 0)
                {
                    break;
                }

                if (ids.Count == MaxBlockCount)
                {
                    throw new ArtifactStoreException(
                        $"Build {build} is larger than {MaxBlockCount} blocks of {blockSize} bytes, the most one blob can hold; nothing was written. Raise IoMTDeployment:Blobs:UploadBlockSize.");
                }

                sha256.AppendData(block.Buffer, 0, block.Count);
                length += block.Count;
                while (inFlight.Count >= concurrency)
                {
                    await HarvestAsync(inFlight, await Task.WhenAny(inFlight.Select(s => s.Stage)).ConfigureAwait(false)).ConfigureAwait(false);
                }

                var id = BlockId(attempt, ids.Count);
                ids.Add(id);

                // On the thread pool, so the block's MD5 (computed before its request is sent) and its transfer overlap
                // with reading and hashing the next block here.
                inFlight.Add((Task.Run(() => StageAsync(blob, id, block, abort.Token), CancellationToken.None), block));
                next = null;
                if (block.Count < blockSize)
                {
                    break;
                }
            }

            while (inFlight.Count > 0)
            {
                await HarvestAsync(inFlight, inFlight[0].Stage).ConfigureAwait(false);
            }
        }
        catch
        {
            await abort.CancelAsync().ConfigureAwait(false);
            foreach (var (stage, block) in inFlight)
            {
                // Their failures (mostly the cancellation just requested) follow the one being thrown.
                await stage.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                block.Return();
            }

            throw;
        }
        finally
        {
            next?.Return();
        }

        var hash = Convert.ToHexStringLower(sha256.GetHashAndReset());
        var commit = new CommitBlockListOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = PackageContentType },
            Metadata = Sha256Metadata(hash),
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
        };
        try
        {
            await blob.CommitBlockListAsync(ids, commit, cancellationToken).ConfigureAwait(false);
            return new Upload(hash, length, null);
        }
        catch (RequestFailedException ex) when (IsAlreadyThere(ex) || ex.ErrorCode == BlobErrorCode.InvalidBlockList)
        {
            // The build was committed by another publisher meanwhile (which also discards our uncommitted blocks).
            return new Upload(hash, length, ex);
        }
    }

    private static async Task StageAsync(BlockBlobClient blob, string id, Block block, CancellationToken cancellationToken)
    {
        // The block's MD5 in one call over the buffer (cheaper than the client's hashing of the stream); it is sent as the
        // request's Content-MD5 all the same, and the service checks it.
#pragma warning disable CA5351 // MD5 only as the transport checksum, never for integrity decisions.
        var md5 = MD5.HashData(block.Buffer.AsSpan(0, block.Count));
#pragma warning restore CA5351
        var options = new BlockBlobStageBlockOptions
        {
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5, PrecalculatedChecksum = md5 },
        };
        using var content = new MemoryStream(block.Buffer, 0, block.Count, writable: false);
        await blob.StageBlockAsync(id, content, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes a finished stage out of the in-flight list, returns its buffer and throws its failure.</summary>
    private static async Task HarvestAsync(List<(Task Stage, Block Block)> inFlight, Task finished)
    {
        var index = inFlight.FindIndex(s => s.Stage == finished);
        var block = inFlight[index].Block;
        inFlight.RemoveAt(index);
        try
        {
            await finished.ConfigureAwait(false);
        }
        finally
        {
            block.Return();
        }
    }

    /// <summary>Reads up to one block into a pooled buffer; fewer bytes only at the end of the stream.</summary>
    private static async Task<Block> ReadBlockAsync(Stream package, int blockSize, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            var count = await package.ReadAtLeastAsync(buffer.AsMemory(0, blockSize), blockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return new Block(buffer, count);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>A block id unique to one publish attempt: the attempt's GUID and the block's index, 48 bytes (64 base64 characters, the length the SDK's own block ids have).</summary>
    private static string BlockId(Guid attempt, int index)
    {
        Span<byte> id = stackalloc byte[48];
        id.Clear();
        attempt.TryWriteBytes(id);
        BinaryPrimitives.WriteInt64BigEndian(id[16..], index);
        return Convert.ToBase64String(id);
    }

    private static Dictionary<string, string> Sha256Metadata(string sha256) =>
        new(StringComparer.Ordinal) { [BlobArtifactOptions.Sha256MetadataKey] = sha256 };

#pragma warning disable CA5351 // MD5 only as the blob's transport checksum (Content-MD5), never for integrity decisions.
    private static IncrementalHash CreateMd5() => IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351

    private async Task CreateContainerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var created = await _container.Client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (created is not null)
            {
                Log.ContainerCreated(_logger, _container.Name);
            }
        }
        catch (Exception ex) when (ArtifactContainer.IsStoreFailure(ex, cancellationToken))
        {
            throw _container.StoreFailure(ex, "create the container");
        }
    }

    /// <summary>Reads the build's properties; <see langword="null"/> when it does not exist (a missing container is created first when allowed).</summary>
    private async Task<BlobProperties?> TryGetPropertiesAsync(BuildNumber build, CancellationToken cancellationToken)
    {
        try
        {
            return (await _container.GetPackageBlob(build).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode != BlobErrorCode.ContainerNotFound)
        {
            return null;
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound && _container.Options.CreateIfMissing)
        {
            await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ArtifactContainer.IsStoreFailure(ex, cancellationToken))
        {
            throw _container.StoreFailure(ex, $"read build {build}");
        }
    }

    private async Task<PublishResult> CompareWithExistingAsync(BuildNumber build, string sha256, BlobProperties existing, CancellationToken cancellationToken)
    {
        var existingInfo = _container.ToInfo(build, existing.ContentLength, existing.Metadata, existing.ETag, existing.LastModified);
        existingInfo = await _container.WithSha256Async(existingInfo, cancellationToken).ConfigureAwait(false);
        if (!ContentHash.AreEqual(existingInfo.Sha256, sha256))
        {
            Log.PublishConflict(_logger, build.ToString(), _container.Name, existingInfo.Sha256, sha256);
            throw new ArtifactConflictException(build, existingInfo.Sha256, sha256);
        }

        Log.AlreadyPublished(_logger, build.ToString(), _container.Name, sha256);
        return new PublishResult(build, sha256, existingInfo.Size, PublishOutcome.AlreadyExists);
    }

    /// <summary>What an upload did: the package's SHA-256 and length, and the service's refusal when the build was there first.</summary>
    private sealed record Upload(string Sha256, long Length, RequestFailedException? Conflict);

    /// <summary>A pooled buffer holding one block of the package.</summary>
    private readonly record struct Block(byte[] Buffer, int Count)
    {
        public void Return() => ArrayPool<byte>.Shared.Return(Buffer);
    }
}
