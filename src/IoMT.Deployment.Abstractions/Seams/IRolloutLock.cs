namespace IoMT.Deployment;

/// <summary>Allows one active rollout across every worker replica.</summary>
public interface IRolloutLock
{
    /// <summary>Tries to take the lock.</summary>
    /// <param name="owner">Who takes it (a host and process description, for diagnostics).</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The held lease, or <see langword="null"/> when another rollout holds the lock.</returns>
    Task<IRolloutLease?> TryAcquireAsync(string owner, CancellationToken cancellationToken = default);
}
