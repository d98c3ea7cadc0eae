using System.Diagnostics;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// The artifact container as both sides see it: listing, opening, hashing and mapping service errors to the
/// Abstractions' exceptions. <see cref="BlobArtifactSource"/> and <see cref="BlobArtifactPublisher"/> share it.
/// </summary>
internal sealed class ArtifactContainer
{
    // Downloads are verified end to end against the recorded SHA-256; CRC64 (what Auto may pick) is not supported by Azurite.
    private static readonly BlobDownloadOptions DownloadOptions = new()
    {
        TransferValidation = new DownloadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.None },
    };

    private readonly ILogger _logger;

    public ArtifactContainer(BlobContainerClient client, BlobArtifactOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        IoMT.Deployment.Composition.DeploymentOptionsValidation.ThrowIfInvalid(options);
        Client = client;
        Options = options;
        _logger = logger;
    }

    public BlobContainerClient Client { get; }

    public BlobArtifactOptions Options { get; }

    public string Name => Client.Name;

    public BlobClient GetPackageBlob(BuildNumber build) => Client.GetBlobClient(build.PackageFileName);

    public async IAsyncEnumerable<ArtifactInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var count = 0;
        var pages = Client.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, cancellationToken)
            .AsPages(pageSizeHint: Options.ListPageSize);
        var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                Page<BlobItem> page;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    page = enumerator.Current;
                }
                catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
                {
                    throw StoreFailure(ex, "list the builds");
                }

                foreach (var item in page.Values)
                {
                    // Only names OpenAsync finds again count: "1.ZIP" parses but is not the package name of build 1.
                    if (!BuildNumber.TryParsePackageFileName(item.Name, out var build) || item.Name != build.PackageFileName)
                    {
                        Log.IgnoredBlobName(_logger, item.Name, Name);
                        continue;
                    }

                    count++;
                    yield return ToInfo(build, item.Properties.ContentLength ?? 0, item.Metadata, item.Properties.ETag, item.Properties.LastModified);
                }
            }
        }

        Log.Listed(_logger, count, Name, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public async Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken)
    {
        if (build.IsDefault)
        {
            throw new ArgumentException("A build number is required.", nameof(build));
        }

        BlobDownloadStreamingResult download;
        try
        {
            download = (await GetPackageBlob(build).DownloadStreamingAsync(DownloadOptions, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            throw new BuildNotFoundException(build, $"Build {build} is not in artifact container '{Name}' (no blob '{build.PackageFileName}').", ex);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw StoreFailure(ex, $"open build {build}");
        }

        var details = download.Details;
        var info = ToInfo(build, details.ContentLength, details.Metadata, details.ETag, details.LastModified);
        Log.Opened(_logger, build.ToString(), info.Size, Name);
        return new OpenedArtifact(info, download.Content);
    }

    /// <summary>Reads a build whole and checks it against its recorded SHA-256 (or hashes it when none is recorded).</summary>
    public async Task<ArtifactPackage> ReadPackageAsync(BuildNumber build, CancellationToken cancellationToken)
    {
        var opened = await OpenAsync(build, cancellationToken).ConfigureAwait(false);
        await using (opened.ConfigureAwait(false))
        {
            var info = opened.Info;
            if (info.Size > Array.MaxLength)
            {
                throw new InvalidPackageException(build, $"Build {build} in artifact container '{Name}' is {info.Size} bytes, too large to read into memory.");
            }

            var content = new byte[info.Size];
            try
            {
                await opened.Content.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException ex)
            {
                throw new InvalidPackageException(build, $"Build {build} in artifact container '{Name}' ended before its {info.Size} bytes were read.", ex);
            }
            catch (Exception ex) when (IsStoreFailure(ex, cancellationToken) || ex is IOException)
            {
                throw StoreFailure(ex, $"read build {build}");
            }

            var actual = ContentHash.Sha256Hex(content);
            if (info.Sha256 is null)
            {
                Log.HashedOnRead(_logger, build.ToString(), Name, actual);
            }
            else if (!ContentHash.AreEqual(info.Sha256, actual))
            {
                Log.PackageHashMismatch(_logger, build.ToString(), Name, info.Sha256, actual);
                throw new InvalidPackageException(
                    build,
                    $"Build {build} in artifact container '{Name}' does not match its recorded SHA-256 (recorded {info.Sha256}, read {actual}); the package is refused.");
            }

            return new ArtifactPackage(build, content, actual, info.Location);
        }
    }

    /// <summary>Gives a listed build's SHA-256: the recorded one, or the package hashed when none was recorded.</summary>
    public async Task<ArtifactInfo> WithSha256Async(ArtifactInfo info, CancellationToken cancellationToken)
    {
        if (info.Sha256 is not null)
        {
            return info;
        }

        var opened = await OpenAsync(info.Build, cancellationToken).ConfigureAwait(false);
        await using (opened.ConfigureAwait(false))
        {
            string sha256;
            try
            {
                sha256 = await ContentHash.Sha256HexAsync(opened.Content, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStoreFailure(ex, cancellationToken) || ex is IOException)
            {
                throw StoreFailure(ex, $"read build {info.Build}");
            }

            Log.HashedOnRead(_logger, info.Build.ToString(), Name, sha256);
            return opened.Info with { Sha256 = sha256 };
        }
    }

    public ArtifactInfo ToInfo(BuildNumber build, long size, IDictionary<string, string>? metadata, ETag? etag, DateTimeOffset? lastModified) =>
        new(build, size, RecordedSha256(metadata), etag?.ToString(), lastModified, GetPackageBlob(build).Uri);

    public static string? RecordedSha256(IDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return null;
        }

        foreach (var (key, value) in metadata)
        {
            if (string.Equals(key, BlobArtifactOptions.Sha256MetadataKey, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(value))
            {
                return value.Trim().ToLowerInvariant();
            }
        }

        return null;
    }

    /// <summary>Whether the failure is the store's (an answer, a credential, or no answer at all) rather than the caller's cancellation.</summary>
    public static bool IsStoreFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is RequestFailedException or AuthenticationFailedException || BlobStoreFailures.IsUnavailable(exception, cancellationToken);

    /// <summary>
    /// Maps a failure to the Abstractions' store exceptions: <see cref="StoreUnavailableException"/> when the service could
    /// not be reached or did not answer, <see cref="StoreAccessDeniedException"/> for 401/403 or no token,
    /// <see cref="StoreThrottledException"/> for 429, else <see cref="ArtifactStoreException"/> (missing container marked);
    /// it names the container, never a secret. No Azure exception type leaves the adapter except as an inner exception.
    /// </summary>
    public DeploymentException StoreFailure(Exception exception, string action) => exception switch
    {
        // A download stream that breaks mid-read (IOException) is the connection failing, not the package.
        _ when exception is IOException || BlobStoreFailures.IsUnavailable(exception, CancellationToken.None) =>
            BlobStoreFailures.Unavailable(StoreUnavailableException.ArtifactContainer, Client, action, exception),
        RequestFailedException { ErrorCode: var code } when code == BlobErrorCode.ContainerNotFound =>
            new ArtifactStoreException($"The artifact container '{Name}' does not exist in storage account '{Client.AccountName}'; could not {action}.", isMissing: true, exception),
        RequestFailedException { Status: 401 or 403 } failed =>
            new StoreAccessDeniedException(StoreUnavailableException.ArtifactContainer, $"{Client.Uri.AbsoluteUri.TrimEnd('/')} (container '{Name}')", action, $"{failed.Status}, {failed.ErrorCode ?? "no error code"}", exception),
        RequestFailedException { Status: 429 } failed =>
            new StoreThrottledException(StoreUnavailableException.ArtifactContainer, $"{Client.Uri.AbsoluteUri.TrimEnd('/')} (container '{Name}')", action, null, exception),
        RequestFailedException failed =>
            new ArtifactStoreException($"Could not {action} in artifact container '{Name}' of storage account '{Client.AccountName}': the service answered {failed.Status} ({failed.ErrorCode ?? "no error code"}).", exception),
        _ =>
            new StoreAccessDeniedException(StoreUnavailableException.ArtifactContainer, $"{Client.Uri.AbsoluteUri.TrimEnd('/')} (container '{Name}')", action, "no token could be obtained for the identity", exception),
    };
}
