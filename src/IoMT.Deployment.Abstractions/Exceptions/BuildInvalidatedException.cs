namespace IoMT.Deployment;

/// <summary>An operation needs a build that is invalidated.</summary>
public sealed class BuildInvalidatedException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The invalidated build.</param>
    /// <param name="message">What went wrong.</param>
    public BuildInvalidatedException(BuildNumber build, string message)
        : base(message)
    {
        Build = build;
    }

    /// <summary>Gets the invalidated build.</summary>
    public BuildNumber Build { get; }
}
