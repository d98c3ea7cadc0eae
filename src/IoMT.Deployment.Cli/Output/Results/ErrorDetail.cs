namespace IoMT.Deployment.Cli.Output;

/// <summary>What failed.</summary>
internal sealed record ErrorDetail(int ExitCode, string Kind, string Type, string Message);
