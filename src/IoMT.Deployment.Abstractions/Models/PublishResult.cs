using System.Security.Cryptography;

namespace IoMT.Deployment;

/// <summary>The result of publishing a build.</summary>
/// <param name="Build">The build.</param>
/// <param name="Sha256">The lowercase hex SHA-256 of the package.</param>
/// <param name="Size">The package size in bytes.</param>
/// <param name="Outcome">Whether the build was written or already there.</param>
public sealed record PublishResult(BuildNumber Build, string Sha256, long Size, PublishOutcome Outcome);
