namespace IoMT.Deployment;

/// <summary>A build is not in the artifact store, or the store holds no build at all.</summary>
public sealed class BuildNotFoundException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="build">The build looked for, or <see langword="null"/> when the store holds no valid build at all.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public BuildNotFoundException(BuildNumber? build, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Build = build;
    }

    /// <summary>Gets the build looked for, or <see langword="null"/> when the store holds no valid build at all.</summary>
    public BuildNumber? Build { get; }
}
