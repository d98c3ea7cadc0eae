namespace IoMT.Deployment;

/// <summary>An operator command found no active rollout, or one whose status the command does not apply to; nothing changed.</summary>
public sealed class RolloutNotActiveException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What the command found.</param>
    public RolloutNotActiveException(string message)
        : base(message)
    {
    }
}
