namespace IoMT.Deployment;

/// <summary>What an update would do to one connector.</summary>
public enum PlannedAction
{
    /// <summary>Deploy the target and set <c>PROJECT_VERSION</c>.</summary>
    Deploy,

    /// <summary>Skip: <c>PROJECT_VERSION</c> already names the target.</summary>
    SkipAlreadyCurrent,

    /// <summary>Skip: the connector's app is gone.</summary>
    SkipDeleted,

    /// <summary>Skip: the connector is pinned to a build.</summary>
    SkipPinned,

    /// <summary>Skip: the connector is excluded from rollouts.</summary>
    SkipExcluded,
}
