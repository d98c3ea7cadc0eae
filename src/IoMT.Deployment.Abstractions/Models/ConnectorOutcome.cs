using System.Text.Json.Serialization;

namespace IoMT.Deployment;

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
