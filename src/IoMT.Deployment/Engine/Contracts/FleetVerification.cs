namespace IoMT.Deployment;

/// <summary>Every connector's version against the current build.</summary>
/// <param name="Expected">The current build, or <see langword="null"/> before the first rollout.</param>
/// <param name="Connectors">Each connector's version.</param>
public sealed record FleetVerification(BuildNumber? Expected, IReadOnlyList<ConnectorVersion> Connectors)
{
    /// <summary>Gets a value indicating whether every surviving connector runs the current build.</summary>
    public bool AllVerified => Connectors.All(c => c.Outcome != VerificationOutcome.Mismatch);
}
