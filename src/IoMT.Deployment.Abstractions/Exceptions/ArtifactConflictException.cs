namespace IoMT.Deployment;

/// <summary>A build already exists in the artifact store with different bytes; delivered builds are immutable.</summary>
public sealed class ArtifactConflictException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The build.</param>
    /// <param name="existingSha256">The SHA-256 of the stored package, when known.</param>
    /// <param name="newSha256">The SHA-256 of the package offered.</param>
    public ArtifactConflictException(BuildNumber build, string? existingSha256, string newSha256)
        : base($"Build {build} is already delivered with different content (stored SHA-256 {existingSha256 ?? "unknown"}, offered {newSha256}). A delivered build is immutable: deliver the change under a new build number.")
    {
        Build = build;
        ExistingSha256 = existingSha256;
        NewSha256 = newSha256;
    }

    /// <summary>Gets the build.</summary>
    public BuildNumber Build { get; }

    /// <summary>Gets the SHA-256 of the stored package, when known.</summary>
    public string? ExistingSha256 { get; }

    /// <summary>Gets the SHA-256 of the package offered.</summary>
    public string NewSha256 { get; }
}
