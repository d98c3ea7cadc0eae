using System.Security.Cryptography;

namespace IoMT.Deployment;

/// <summary>A delivered build as the artifact store lists it.</summary>
/// <param name="Build">The build number, taken from the package name <c>{build}.zip</c>.</param>
/// <param name="Size">The package size in bytes.</param>
/// <param name="Sha256">The lowercase hex SHA-256 recorded at delivery, or <see langword="null"/> when none was recorded (the package is hashed when read).</param>
/// <param name="ETag">The store's entity tag for the package, when it has one.</param>
/// <param name="LastModified">When the package was written, when known.</param>
/// <param name="Location">Where the package lives (a blob URL or a file URI), when the store can say; the Run-From-Package deployer points apps at it.</param>
public sealed record ArtifactInfo(
    BuildNumber Build,
    long Size,
    string? Sha256 = null,
    string? ETag = null,
    DateTimeOffset? LastModified = null,
    Uri? Location = null);

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

/// <summary>
/// A build's package read once into memory and checked against its SHA-256. Deployers open as many read-only
/// streams over it as they need; the bytes are never copied per connector.
/// </summary>
public sealed class ArtifactPackage
{
    private readonly byte[] _content;

    /// <summary>Creates a package from bytes already read. The array is not copied and must not be changed afterwards.</summary>
    /// <param name="build">The build.</param>
    /// <param name="content">The package bytes.</param>
    /// <param name="sha256">The lowercase hex SHA-256 of <paramref name="content"/>.</param>
    /// <param name="location">Where the package lives in the artifact store, when known.</param>
    public ArtifactPackage(BuildNumber build, byte[] content, string sha256, Uri? location = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        if (build.IsDefault)
        {
            throw new ArgumentException("A package needs a build number.", nameof(build));
        }

        Build = build;
        _content = content;
        Sha256 = sha256;
        Location = location;
    }

    /// <summary>Gets the build.</summary>
    public BuildNumber Build { get; }

    /// <summary>Gets the lowercase hex SHA-256 of the package.</summary>
    public string Sha256 { get; }

    /// <summary>Gets the package size in bytes.</summary>
    public long Length => _content.LongLength;

    /// <summary>Gets where the package lives in the artifact store, when known.</summary>
    public Uri? Location { get; }

    /// <summary>Gets the package bytes, read-only.</summary>
    public ReadOnlyMemory<byte> Content => _content;

    /// <summary>Opens a new read-only, seekable stream over the package bytes (no copy).</summary>
    /// <returns>A stream positioned at the start.</returns>
    public Stream OpenRead() => new MemoryStream(_content, 0, _content.Length, writable: false, publiclyVisible: false);

    /// <summary>Creates a package from bytes, computing their SHA-256.</summary>
    /// <param name="build">The build.</param>
    /// <param name="content">The package bytes; not copied.</param>
    /// <param name="location">Where the package lives, when known.</param>
    /// <returns>The package.</returns>
    public static ArtifactPackage FromBytes(BuildNumber build, byte[] content, Uri? location = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        return new ArtifactPackage(build, content, ContentHash.Sha256Hex(content), location);
    }
}

/// <summary>SHA-256 content hashes as lowercase hex, the form stored with every delivered build.</summary>
public static class ContentHash
{
    /// <summary>Hashes bytes.</summary>
    /// <param name="content">The bytes.</param>
    /// <returns>The lowercase hex SHA-256.</returns>
    public static string Sha256Hex(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Hashes a stream from its current position to its end.</summary>
    /// <param name="content">The stream.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The lowercase hex SHA-256.</returns>
    public static async Task<string> Sha256HexAsync(Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Compares two hex hashes, ignoring case.</summary>
    /// <param name="left">One hash.</param>
    /// <param name="right">The other hash.</param>
    /// <returns><see langword="true"/> when both are present and equal.</returns>
    public static bool AreEqual(string? left, string? right) =>
        left is not null && right is not null && string.Equals(left, right, StringComparison.OrdinalIgnoreCase);
}

/// <summary>What <see cref="IArtifactPublisher.PublishAsync"/> did.</summary>
public enum PublishOutcome
{
    /// <summary>The build was written.</summary>
    Created,

    /// <summary>The build already existed with the same bytes; nothing was written.</summary>
    AlreadyExists,
}

/// <summary>The result of publishing a build.</summary>
/// <param name="Build">The build.</param>
/// <param name="Sha256">The lowercase hex SHA-256 of the package.</param>
/// <param name="Size">The package size in bytes.</param>
/// <param name="Outcome">Whether the build was written or already there.</param>
public sealed record PublishResult(BuildNumber Build, string Sha256, long Size, PublishOutcome Outcome);
