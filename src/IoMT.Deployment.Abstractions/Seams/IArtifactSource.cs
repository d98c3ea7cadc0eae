namespace IoMT.Deployment;

/// <summary>The read side of the artifact container: the update worker lists and opens delivered builds.</summary>
/// <remarks>The worker's identity may only read the container; hosts that run the worker register no <see cref="IArtifactPublisher"/>.</remarks>
public interface IArtifactSource
{
    /// <summary>
    /// Lists the delivered builds, in no particular order. Names that are not <c>{build}.zip</c> are skipped with a
    /// warning, never an error.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The builds.</returns>
    /// <exception cref="ArtifactStoreException">The store is missing or cannot be read.</exception>
    IAsyncEnumerable<ArtifactInfo> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens a build's package for reading.</summary>
    /// <param name="build">The build.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The package stream with what the store knows of it, including its recorded SHA-256.</returns>
    /// <exception cref="BuildNotFoundException">No such build.</exception>
    /// <exception cref="ArtifactStoreException">The store is missing or cannot be read.</exception>
    Task<OpenedArtifact> OpenAsync(BuildNumber build, CancellationToken cancellationToken = default);
}
