namespace IoMT.Deployment;

/// <summary>What a failed deployment is attributed to.</summary>
public enum DeploymentFailureKind
{
    /// <summary>Not known; counted against the build, as the safe choice.</summary>
    Unknown,

    /// <summary>The deployment ran and failed (Kudu status Failed, the app did not start): the build is to blame.</summary>
    BuildAttributable,

    /// <summary>The platform failed (5xx, timeouts, dropped connections): retried, not counted against the build.</summary>
    Transient,

    /// <summary>The platform throttled the requests (429): retried, not counted against the build.</summary>
    Throttled,
}
