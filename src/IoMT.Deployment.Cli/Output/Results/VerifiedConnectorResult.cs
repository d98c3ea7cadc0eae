namespace IoMT.Deployment.Cli.Output;

/// <summary>One connector in <c>verify</c>.</summary>
internal sealed record VerifiedConnectorResult(string Connector, VerificationOutcome Outcome, string? ProjectVersion, string? Error);
