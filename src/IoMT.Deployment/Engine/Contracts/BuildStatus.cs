namespace IoMT.Deployment;

/// <summary>A delivered build with its validity.</summary>
/// <param name="Artifact">What the store knows of it.</param>
/// <param name="Invalidation">Its invalidation, when it is invalidated.</param>
public sealed record BuildStatus(ArtifactInfo Artifact, BuildInvalidation? Invalidation);
