namespace IoMT.Deployment;

/// <summary>The version state cannot be read or written, or it is corrupt.</summary>
public sealed class VersionStoreException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the document or file.</param>
    /// <param name="innerException">The cause.</param>
    public VersionStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
