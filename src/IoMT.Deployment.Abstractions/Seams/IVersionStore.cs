namespace IoMT.Deployment;

/// <summary>The global database's record of which build the fleet runs, guarded by an ETag.</summary>
public interface IVersionStore
{
    /// <summary>Reads the version state.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state and its ETag; an empty state with a <see langword="null"/> ETag when nothing was written yet.</returns>
    /// <exception cref="VersionStoreException">The state cannot be read or is corrupt; the message names the document.</exception>
    Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes the version state if it has not changed since it was read.</summary>
    /// <param name="state">The new state.</param>
    /// <param name="expectedETag">The ETag read with the state; <see langword="null"/> to create the first state, which fails if one exists.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The new ETag.</returns>
    /// <exception cref="VersionStateConflictException">Another writer changed the state since it was read; nothing was written.</exception>
    Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Appends a rollout to the bounded history, dropping the oldest entries beyond the store's limit.</summary>
    /// <param name="entry">The rollout.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the entry is stored.</returns>
    Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Reads the rollout history, newest first.</summary>
    /// <param name="maxCount">The most entries to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entries, newest first.</returns>
    Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default);
}
