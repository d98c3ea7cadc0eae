namespace IoMT.Deployment;

/// <summary>The version state changed since it was read (its ETag no longer matches); nothing was written.</summary>
public sealed class VersionStateConflictException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public VersionStateConflictException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
