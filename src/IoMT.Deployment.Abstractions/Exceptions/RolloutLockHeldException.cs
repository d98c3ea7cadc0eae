namespace IoMT.Deployment;

/// <summary>Another rollout holds the rollout lock; this run did nothing.</summary>
public sealed class RolloutLockHeldException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public RolloutLockHeldException(string message)
        : base(message)
    {
    }
}
