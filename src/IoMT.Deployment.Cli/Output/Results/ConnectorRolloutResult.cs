namespace IoMT.Deployment.Cli.Output;

/// <summary>One connector in a rollout's result.</summary>
internal sealed record ConnectorRolloutResult(string Connector, ConnectorOutcome Outcome, string? PreviousVersion, VerificationOutcome? Verification, string? VerifiedVersion, long DurationMs, string? Error);
