namespace IoMT.Deployment.Cli.Output;

/// <summary>One connector in a dry-run plan.</summary>
internal sealed record PlannedConnectorResult(string Connector, string? CurrentVersion, string? Reason);
