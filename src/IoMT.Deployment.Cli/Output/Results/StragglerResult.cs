namespace IoMT.Deployment.Cli.Output;

/// <summary>A connector whose <c>PROJECT_VERSION</c> is not the current build.</summary>
internal sealed record StragglerResult(string Connector, string? ProjectVersion, string? Error);
