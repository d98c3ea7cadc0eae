namespace IoMT.Deployment;

/// <summary>A package is corrupt: its bytes do not match the recorded SHA-256, or it is not a valid zip.</summary>
public sealed class InvalidPackageException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The build, when known.</param>
    /// <param name="message">What is wrong with the package.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidPackageException(BuildNumber? build, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Build = build;
    }

    /// <summary>Gets the build, when known.</summary>
    public BuildNumber? Build { get; }
}
