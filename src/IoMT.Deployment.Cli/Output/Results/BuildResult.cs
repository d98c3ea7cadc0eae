namespace IoMT.Deployment.Cli.Output;

/// <summary>A delivered build in <c>status</c>.</summary>
internal sealed record BuildResult(string Build, long Size, string? Sha256, DateTimeOffset? LastModified, bool Valid, bool Current, bool InFlight, InvalidationResult? Invalidation);
