using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// The read side of the artifact container on Azure Blob Storage: lists <c>{build}.zip</c> blobs page by page and opens
/// them. Needs only read access (Storage Blob Data Reader) to the container.
/// </summary>
public sealed class BlobArtifactSource : IArtifactSource
{
    private readonly ArtifactContainer _container;

    /// <summary>Creates the source over a container.</summary>
    /// <param name="container">The artifact container; its name wins over <see cref="BlobArtifactOptions.ContainerName"/>.</param>
    /// <param name="options">The options (page size); <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the message names the setting.</exception>
    public BlobArtifactSource(BlobContainerClient container, BlobArtifactOptions? options = null, ILogger<BlobArtifactSource>? logger = null)
    {
        _container = new ArtifactContainer(container, options ?? new BlobArtifactOptions(), (ILogger?)logger ?? NullLogger.Instance);
    }

    /// <summary>Gets the artifact container's name.</summary>
    public string ContainerName => _container.Name;

    /// <inheritdoc/>
    /// <remarks>
    /// Builds come in the service's (lexicographic) name order, not build order. Each carries the SHA-256 recorded in the
    /// blob's metadata at delivery, or <see langword="null"/> when none was recorded, and the blob URI as its location.
    /// </remarks>
    public IAsyncEnumerable<ArtifactInfo> ListAsync(CancellationToken cancellationToken = default) => _container.ListAsync(cancellationToken);

    /// <inheritdoc/>
    /// <remarks>The stream is not verified; compare its SHA-256 with <see cref="ArtifactInfo.Sha256"/>, or use <see cref="ReadPackageAsync"/>.</remarks>
    public Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken = default) => _container.OpenAsync(build, cancellationToken);

    /// <summary>
    /// Reads a build's package into memory and verifies it: a package whose bytes do not match the SHA-256 recorded at
    /// delivery is refused; one without a recorded SHA-256 is hashed.
    /// </summary>
    /// <param name="build">The build.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The verified package.</returns>
    /// <exception cref="InvalidPackageException">The bytes do not match the recorded SHA-256, or the package is truncated.</exception>
    /// <exception cref="BuildNotFoundException">No such build.</exception>
    /// <exception cref="ArtifactStoreException">The container is missing or cannot be read.</exception>
    public Task<ArtifactPackage> ReadPackageAsync(BuildNumber build, CancellationToken cancellationToken = default) =>
        _container.ReadPackageAsync(build, cancellationToken);
}
