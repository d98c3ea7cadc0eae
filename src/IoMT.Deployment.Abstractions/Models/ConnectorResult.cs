using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>One connector's part in a rollout.</summary>
public sealed record ConnectorResult
{
    /// <summary>Gets the connector.</summary>
    public required ConnectorTarget Connector { get; init; }

    /// <summary>Gets what the rollout did to it.</summary>
    public required ConnectorOutcome Outcome { get; init; }

    /// <summary>Gets how long the connector's step took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Gets the <c>PROJECT_VERSION</c> found before the step, when it was read.</summary>
    public string? PreviousVersion { get; init; }

    /// <summary>Gets the error of a failed step.</summary>
    [JsonIgnore]
    public Exception? Error { get; init; }

    /// <summary>Gets the error message of a failed step, for reports and JSON output.</summary>
    public string? ErrorMessage => Error?.Message;

    /// <summary>Gets what verification found, once it ran.</summary>
    public VerificationOutcome? Verification { get; init; }

    /// <summary>Gets the <c>PROJECT_VERSION</c> read by verification.</summary>
    public string? VerifiedVersion { get; init; }
}
