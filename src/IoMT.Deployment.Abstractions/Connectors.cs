using System.Text.Json.Serialization;

namespace IoMT.Deployment;

/// <summary>The app setting that names the build a connector's Function app runs.</summary>
public static class ProjectVersionSetting
{
    /// <summary>The setting's name, <c>PROJECT_VERSION</c>.</summary>
    public const string Name = "PROJECT_VERSION";
}

/// <summary>One IoMT connector: a customer's Function app that runs the connector code.</summary>
public sealed record ConnectorTarget
{
    /// <summary>Creates a connector target.</summary>
    /// <param name="id">The connector's id, unique in the inventory.</param>
    /// <param name="resourceId">The Function app's Azure resource id (<c>/subscriptions/…/resourceGroups/…/providers/Microsoft.Web/sites/{name}</c>), when it runs in Azure.</param>
    public ConnectorTarget(string id, string? resourceId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Id = id;
        ResourceId = resourceId;
    }

    /// <summary>Gets the connector's id, unique in the inventory.</summary>
    public string Id { get; }

    /// <summary>Gets the Function app's Azure resource id, when it runs in Azure.</summary>
    public string? ResourceId { get; init; }

    /// <summary>Gets a value indicating whether the connector is in the canary ring, for rollout policies that use one.</summary>
    public bool Canary { get; init; }

    /// <summary>Gets free-form tags from the inventory (region, customer tier, …).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Id;
}

/// <summary>What a rollout did to one connector.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConnectorOutcome>))]
public enum ConnectorOutcome
{
    /// <summary>The package was deployed and <c>PROJECT_VERSION</c> set.</summary>
    Updated,

    /// <summary><c>PROJECT_VERSION</c> already named the target; nothing was deployed.</summary>
    AlreadyCurrent,

    /// <summary>The connector was deleted before or during its deployment; skipped, not an error.</summary>
    Deleted,

    /// <summary>The deployment or the version write failed; see the error.</summary>
    Failed,

    /// <summary>
    /// Not started: the rollout stopped before this connector's deployment because its target build was invalidated
    /// (or a rollback asked it to stop). Nothing was changed on the connector; see <see cref="RolloutReport.StopReason"/>.
    /// </summary>
    Stopped,

    /// <summary>Skipped: the connector is pinned to another build (see <see cref="VersionState.Pins"/>).</summary>
    Pinned,

    /// <summary>Skipped: the connector is excluded from rollouts.</summary>
    Excluded,

    /// <summary>Brought back to the previous build after its wave halted (or the rollout was aborted).</summary>
    RolledBack,
}

/// <summary>What the verification after a rollout found on one connector.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VerificationOutcome>))]
public enum VerificationOutcome
{
    /// <summary><c>PROJECT_VERSION</c> equals the target.</summary>
    Verified,

    /// <summary><c>PROJECT_VERSION</c> differs from the target (or could not be read); see the actual value.</summary>
    Mismatch,

    /// <summary>The connector is gone.</summary>
    Deleted,

    /// <summary>The connector is excluded from rollouts; its version is not judged.</summary>
    Excluded,
}

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
