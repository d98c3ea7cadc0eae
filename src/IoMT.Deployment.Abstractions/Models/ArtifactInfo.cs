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
