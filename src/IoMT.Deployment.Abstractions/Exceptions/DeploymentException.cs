namespace IoMT.Deployment;

/// <summary>The base of every exception IoMT.Deployment throws for a case a caller handles.</summary>
public abstract class DeploymentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, naming the thing concerned. Never a secret.</param>
    /// <param name="innerException">The cause.</param>
    protected DeploymentException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
