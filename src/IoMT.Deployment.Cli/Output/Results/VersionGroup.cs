namespace IoMT.Deployment.Cli.Output;

/// <summary>The connectors that report one <c>PROJECT_VERSION</c>.</summary>
internal sealed record VersionGroup(string? Version, int Count, IReadOnlyList<string> Connectors);
