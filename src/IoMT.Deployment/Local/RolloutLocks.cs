namespace IoMT.Deployment.Local;

/// <summary>A rollout lock for one process: one rollout at a time within the host.</summary>
public sealed class InProcessRolloutLock : IRolloutLock, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc/>
    public void Dispose() => _gate.Dispose();

    /// <inheritdoc/>
    public async Task<IRolloutLease?> TryAcquireAsync(string owner, CancellationToken cancellationToken = default)
    {
        return await _gate.WaitAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false) ? new Lease(_gate) : null;
    }

    private sealed class Lease(SemaphoreSlim gate) : IRolloutLease
    {
        private int _released;

        public CancellationToken LeaseLost => CancellationToken.None;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }

            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// The local provider's rollout lock: an exclusive lock on <c>{root}/rollout.lock</c>, so that two processes on one
/// machine (two <c>iomt-deploy update</c> runs, say) never roll out at once. Released when the lease is disposed or the process exits.
/// </summary>
public sealed class FileRolloutLock : IRolloutLock
{
    private readonly LocalLayout _layout;

    /// <summary>Creates the lock.</summary>
    /// <param name="layout">The local layout.</param>
    public FileRolloutLock(LocalLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
    }

    /// <inheritdoc/>
    public Task<IRolloutLease?> TryAcquireAsync(string owner, CancellationToken cancellationToken = default)
    {
        // The lock never creates the root: a mistyped root must not leave a new, empty deployment behind.
        if (!Directory.Exists(_layout.Root))
        {
            throw new ArtifactStoreException($"The local root '{_layout.Root}' does not exist; nothing to roll out.", isMissing: true);
        }

        try
        {
            var file = new FileStream(_layout.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            return Task.FromResult<IRolloutLease?>(new Lease(file));
        }
        catch (IOException)
        {
            return Task.FromResult<IRolloutLease?>(null);
        }
    }

    private sealed class Lease(FileStream file) : IRolloutLease
    {
        public CancellationToken LeaseLost => CancellationToken.None;

        public ValueTask DisposeAsync() => file.DisposeAsync();
    }
}
