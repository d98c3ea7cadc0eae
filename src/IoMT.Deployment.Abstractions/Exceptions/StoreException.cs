namespace IoMT.Deployment;

/// <summary>
/// A store (artifact container, version store, rollout lock, connector inventory) failed as infrastructure: unreachable,
/// throttled or refusing the identity. Every adapter maps its SDK's failures to one of the derived types, so the engine,
/// the CLI and the operations API decide on these alone; the SDK's exception is only ever the inner exception.
/// </summary>
public abstract class StoreException : DeploymentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="store">Which store.</param>
    /// <param name="endpoint">Where the store was reached, never with a secret.</param>
    /// <param name="operation">What was being done.</param>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    protected StoreException(string store, string endpoint, string operation, string message, Exception? innerException)
        : base(message, innerException)
    {
        Store = store;
        Endpoint = endpoint;
        Operation = operation;
    }

    /// <summary>Gets which store failed, such as "artifact container" or "version store".</summary>
    public string Store { get; }

    /// <summary>Gets where the store was reached (endpoint with container or database), never with a secret.</summary>
    public string Endpoint { get; }

    /// <summary>Gets what was being done when the store failed.</summary>
    public string Operation { get; }

    /// <summary>Gets a value indicating whether trying again later may succeed.</summary>
    public abstract bool IsTransient { get; }
}
