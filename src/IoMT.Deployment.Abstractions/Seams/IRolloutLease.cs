namespace IoMT.Deployment;

/// <summary>A held rollout lock. Disposing it releases the lock.</summary>
public interface IRolloutLease : IAsyncDisposable
{
    /// <summary>Gets a token that is cancelled when the lease is lost (it could not be renewed); the rollout must stop.</summary>
    CancellationToken LeaseLost { get; }
}
