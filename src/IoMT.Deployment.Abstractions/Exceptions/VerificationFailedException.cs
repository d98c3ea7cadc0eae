namespace IoMT.Deployment;

/// <summary>After a rollout, a connector does not run the build it should.</summary>
public sealed class VerificationFailedException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="connectorId">The connector.</param>
    /// <param name="expected">The build it should run.</param>
    /// <param name="actual">The <c>PROJECT_VERSION</c> it has.</param>
    public VerificationFailedException(string connectorId, BuildNumber expected, string? actual)
        : base($"Connector '{connectorId}' reports PROJECT_VERSION '{actual ?? "(not set)"}' instead of '{expected}'.")
    {
        ConnectorId = connectorId;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Gets the connector's id.</summary>
    public string ConnectorId { get; }

    /// <summary>Gets the build it should run.</summary>
    public BuildNumber Expected { get; }

    /// <summary>Gets the <c>PROJECT_VERSION</c> it has.</summary>
    public string? Actual { get; }
}
