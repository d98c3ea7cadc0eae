using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// The write side of the artifact container on Azure Blob Storage, for the delivery step: uploads <c>{build}.zip</c>
/// only if it does not exist yet (<c>If-None-Match: *</c>), records its SHA-256 as blob metadata, validates the transfer
/// with MD5 and sends large packages in parallel blocks.
/// </summary>
public sealed class BlobArtifactPublisher : IArtifactPublisher
{
    private const string PackageContentType = "application/zip";

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
    public async Task<PublishResult> PublishAsync(BuildNumber build, Stream package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (build.IsDefault)
        {
            throw new ArgumentException("A build number is required.", nameof(build));
        }

        var started = Stopwatch.GetTimestamp();

        // Hash first: the SHA-256 travels with the bytes as metadata, and an existing build is compared without an upload.
        var prepared = await PreparedPackage.CreateAsync(package, cancellationToken).ConfigureAwait(false);
        await using (prepared.ConfigureAwait(false))
        {
            var existing = await TryGetPropertiesAsync(build, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                return await CompareWithExistingAsync(build, prepared, existing, cancellationToken).ConfigureAwait(false);
            }

            var conflict = await TryUploadAsync(build, prepared, cancellationToken).ConfigureAwait(false);
            if (conflict is not null)
            {
                // Another publisher wrote the build between our check and our commit; If-None-Match kept its bytes.
                existing = await TryGetPropertiesAsync(build, cancellationToken).ConfigureAwait(false)
                    ?? throw new ArtifactStoreException(
                        $"Build {build} is being delivered to artifact container '{_container.Name}' by another publisher at this moment (its upload is not committed yet); nothing was written. Retry the delivery.",
                        conflict);
                return await CompareWithExistingAsync(build, prepared, existing, cancellationToken).ConfigureAwait(false);
            }

            Log.Published(_logger, build.ToString(), prepared.Length, prepared.Sha256, _container.Name, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return new PublishResult(build, prepared.Sha256, prepared.Length, PublishOutcome.Created);
        }
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

    /// <summary>Uploads the package if the build does not exist yet.</summary>
    /// <returns><see langword="null"/> when written; the service's answer when the build already exists.</returns>
    private async Task<RequestFailedException?> TryUploadAsync(BuildNumber build, PreparedPackage prepared, CancellationToken cancellationToken)
    {
        var options = _container.Options;
        var upload = new BlobUploadOptions
        {
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [BlobArtifactOptions.Sha256MetadataKey] = prepared.Sha256 },

            // The whole package's MD5 as a blob property: block uploads have none otherwise, and downloaders can check it.
            HttpHeaders = new BlobHttpHeaders { ContentType = PackageContentType, ContentHash = prepared.Md5 },
            TransferOptions = new StorageTransferOptions
            {
                InitialTransferSize = options.SingleUploadThreshold,
                MaximumTransferSize = options.UploadBlockSize,
                MaximumConcurrency = options.UploadConcurrency,
            },

            // MD5 per request, not CRC64: Azurite does not support CRC64 and Auto may choose it.
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        };

        var blob = _container.GetPackageBlob(build);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await blob.UploadAsync(prepared.Rewind(), upload, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.BlobAlreadyExists || ex.ErrorCode == BlobErrorCode.ConditionNotMet || ex.Status == 412)
            {
                return ex;
            }
            catch (RequestFailedException ex) when (attempt == 1 && ex.ErrorCode == BlobErrorCode.ContainerNotFound && options.CreateContainerIfMissing)
            {
                await CreateContainerAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ArtifactContainer.IsStoreFailure(ex))
            {
                throw _container.StoreFailure(ex, $"publish build {build}");
            }
        }
    }

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
        catch (Exception ex) when (ArtifactContainer.IsStoreFailure(ex))
        {
            throw _container.StoreFailure(ex, "create the container");
        }
    }

    private async Task<BlobProperties?> TryGetPropertiesAsync(BuildNumber build, CancellationToken cancellationToken)
    {
        try
        {
            return (await _container.GetPackageBlob(build).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && (ex.ErrorCode != BlobErrorCode.ContainerNotFound || _container.Options.CreateContainerIfMissing))
        {
            // No such build (a missing container is created at upload when allowed).
            return null;
        }
        catch (Exception ex) when (ArtifactContainer.IsStoreFailure(ex))
        {
            throw _container.StoreFailure(ex, $"read build {build}");
        }
    }

    private async Task<PublishResult> CompareWithExistingAsync(BuildNumber build, PreparedPackage prepared, BlobProperties existing, CancellationToken cancellationToken)
    {
        var existingInfo = _container.ToInfo(build, existing.ContentLength, existing.Metadata, existing.ETag, existing.LastModified);
        existingInfo = await _container.WithSha256Async(existingInfo, cancellationToken).ConfigureAwait(false);
        if (!ContentHash.AreEqual(existingInfo.Sha256, prepared.Sha256))
        {
            Log.PublishConflict(_logger, build.ToString(), _container.Name, existingInfo.Sha256, prepared.Sha256);
            throw new ArtifactConflictException(build, existingInfo.Sha256, prepared.Sha256);
        }

        Log.AlreadyPublished(_logger, build.ToString(), _container.Name, prepared.Sha256);
        return new PublishResult(build, prepared.Sha256, existingInfo.Size, PublishOutcome.AlreadyExists);
    }

    /// <summary>The package to upload with its hashes; a non-seekable input is buffered so the upload can be retried.</summary>
    private sealed class PreparedPackage : IAsyncDisposable
    {
        private readonly Stream _content;
        private readonly long _start;
        private readonly bool _owned;

        private PreparedPackage(Stream content, long start, bool owned, long length, string sha256, byte[] md5)
        {
            _content = content;
            _start = start;
            _owned = owned;
            Length = length;
            Sha256 = sha256;
            Md5 = md5;
        }

        public long Length { get; }

        public string Sha256 { get; }

        public byte[] Md5 { get; }

        public static async Task<PreparedPackage> CreateAsync(Stream package, CancellationToken cancellationToken)
        {
            if (!package.CanRead)
            {
                throw new ArgumentException("The package stream cannot be read.", nameof(package));
            }

            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

            // MD5 only as the blob's transport checksum (Content-MD5), never for integrity decisions.
#pragma warning disable CA5351
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
            var buffered = package.CanSeek ? null : new MemoryStream();
            var start = package.CanSeek ? package.Position : 0;
            var buffer = new byte[81920];
            long length = 0;
            int read;
            while ((read = await package.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha256.AppendData(buffer, 0, read);
                md5.AppendData(buffer, 0, read);
                length += read;
                if (buffered is not null)
                {
                    await buffered.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }

            return new PreparedPackage(buffered ?? package, start, owned: buffered is not null, length, Convert.ToHexStringLower(sha256.GetHashAndReset()), md5.GetHashAndReset());
        }

        public Stream Rewind()
        {
            _content.Position = _start;
            return _content;
        }

        public ValueTask DisposeAsync() => _owned ? _content.DisposeAsync() : ValueTask.CompletedTask;
    }
}
