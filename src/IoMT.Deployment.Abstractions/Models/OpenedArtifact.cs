using System.Security.Cryptography;

namespace IoMT.Deployment;

/// <summary>A package opened for reading by <see cref="IArtifactSource.OpenAsync"/>. Dispose it to release the stream.</summary>
public sealed class OpenedArtifact : IAsyncDisposable, IDisposable
{
    /// <summary>Creates an opened package.</summary>
    /// <param name="info">What the store knows of the build.</param>
    /// <param name="content">The package bytes, read once from the start.</param>
    public OpenedArtifact(ArtifactInfo info, Stream content)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(content);
        Info = info;
        Content = content;
    }

    /// <summary>Gets what the store knows of the build, including the expected SHA-256 when one was recorded.</summary>
    public ArtifactInfo Info { get; }

    /// <summary>Gets the package bytes.</summary>
    public Stream Content { get; }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Content.DisposeAsync();

    /// <inheritdoc/>
    public void Dispose() => Content.Dispose();
}
