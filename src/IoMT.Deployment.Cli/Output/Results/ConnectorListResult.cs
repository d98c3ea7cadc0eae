namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>connectors list</c>.</summary>
internal sealed record ConnectorListResult(IReadOnlyList<ConnectorListItem> Connectors);
