namespace IoMT.Deployment;

/// <summary>One connector's version as found by <see cref="IRolloutEngine.VerifyAsync"/> or <see cref="IRolloutEngine.GetStatusAsync"/>.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Outcome">Verified, mismatch or deleted.</param>
/// <param name="ProjectVersion">Its <c>PROJECT_VERSION</c>.</param>
/// <param name="Error">Why it could not be read, when it could not.</param>
public sealed record ConnectorVersion(ConnectorTarget Connector, VerificationOutcome Outcome, string? ProjectVersion, string? Error = null);
