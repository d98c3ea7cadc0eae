namespace IoMT.Deployment;

/// <summary>The artifact store is missing, cannot be read or cannot be written.</summary>
public sealed class ArtifactStoreException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the store.</param>
    /// <param name="innerException">The cause.</param>
    public ArtifactStoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a store that does not exist (container or folder missing).</summary>
    /// <param name="message">What is missing, naming it.</param>
    /// <param name="isMissing">Whether the store itself does not exist.</param>
    /// <param name="innerException">The cause.</param>
    public ArtifactStoreException(string message, bool isMissing, Exception? innerException = null)
        : base(message, innerException)
    {
        IsMissing = isMissing;
    }

    /// <summary>Gets a value indicating whether the store itself (the container, the folder) does not exist.</summary>
    public bool IsMissing { get; }
}
