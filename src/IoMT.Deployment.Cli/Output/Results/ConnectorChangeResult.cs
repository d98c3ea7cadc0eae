namespace IoMT.Deployment.Cli.Output;

/// <summary>The result of <c>connectors add</c> and <c>connectors remove</c>.</summary>
internal sealed record ConnectorChangeResult(IReadOnlyList<string> Changed, IReadOnlyList<string> Unchanged);
