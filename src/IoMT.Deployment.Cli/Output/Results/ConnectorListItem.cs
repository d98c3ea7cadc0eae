namespace IoMT.Deployment.Cli.Output;

/// <summary>A connector in <c>connectors list</c>.</summary>
internal sealed record ConnectorListItem(string Id, bool Canary, string? ResourceId);
