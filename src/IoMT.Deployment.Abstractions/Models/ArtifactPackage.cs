using System.Security.Cryptography;

namespace IoMT.Deployment;

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
