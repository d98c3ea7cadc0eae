namespace IoMT.Deployment;

/// <summary>One connector in a <see cref="RolloutPlan"/>.</summary>
/// <param name="Connector">The connector.</param>
/// <param name="Action">What the update would do.</param>
/// <param name="CurrentVersion">Its <c>PROJECT_VERSION</c> now.</param>
/// <param name="Wave">The index of the wave that reaches it, or -1 when none does (pinned, excluded, deleted).</param>
public sealed record PlannedConnector(ConnectorTarget Connector, PlannedAction Action, string? CurrentVersion, int Wave = -1);
