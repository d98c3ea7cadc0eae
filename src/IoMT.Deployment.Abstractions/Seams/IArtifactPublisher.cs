namespace IoMT.Deployment;

/// <summary>The write side of the artifact container, for the delivery step only.</summary>
/// <remarks>A delivered build is immutable: the same bytes again is a no-op, other bytes are a conflict.</remarks>
public interface IArtifactPublisher
{
    /// <summary>Publishes a package as <c>{build}.zip</c>, recording its SHA-256 with it.</summary>
    /// <param name="build">The build number.</param>
    /// <param name="package">The package bytes, read from the current position; a seekable stream lets the store retry.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>Whether the build was written or already there with the same bytes.</returns>
    /// <exception cref="ArtifactConflictException">The build already exists with different bytes; nothing was written.</exception>
    /// <exception cref="ArtifactStoreException">The store is missing or cannot be written.</exception>
    Task<PublishResult> PublishAsync(BuildNumber build, Stream package, CancellationToken cancellationToken = default);

    /// <summary>Gets the newest delivered build with its content hash, for delivering only when the content changed.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The newest build (highest build number, invalidated or not) with its SHA-256, or <see langword="null"/> when none was delivered.</returns>
    Task<ArtifactInfo?> GetNewestAsync(CancellationToken cancellationToken = default);
}
