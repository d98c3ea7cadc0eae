using System.Collections.Concurrent;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace IoMT.Deployment.Testing;

/// <summary>An in-memory version store with real ETag semantics.</summary>
public sealed class InMemoryVersionStore : IVersionStore
{
    private readonly Lock _gate = new();
    private VersionState _state = VersionState.Empty;
    private string? _etag;
    private readonly List<RolloutHistoryEntry> _history = [];
    private int _writes;

    /// <summary>Gets how many writes succeeded.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Creates the store holding <paramref name="initial"/> (the empty state when <see langword="null"/>).</summary>
    public InMemoryVersionStore(VersionState? initial = null)
    {
        if (initial is not null)
        {
            Set(initial);
        }
    }

    /// <summary>Runs before a write is checked, to simulate another writer.</summary>
    public Action<InMemoryVersionStore>? BeforeWrite { get; set; }

    public VersionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public IReadOnlyList<RolloutHistoryEntry> History
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    public void Set(VersionState state)
    {
        lock (_gate)
        {
            _state = state;
            _etag = Guid.NewGuid().ToString("N");
        }
    }

    private int _reads;

    /// <summary>Gets how many reads were asked for.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Makes every read fail as an unreachable database would.</summary>
    public bool FailReads { get; set; }

    public Task<VersionStateEntry> ReadAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        if (FailReads)
        {
            return Task.FromException<VersionStateEntry>(new TimeoutException("the version store does not answer"));
        }

        lock (_gate)
        {
            return Task.FromResult(new VersionStateEntry(_state, _etag));
        }
    }

    /// <summary>Completes when a write makes the state satisfy the condition (at once when it already does).</summary>
    public Task WhenAsync(Func<VersionState, bool> condition)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (condition(_state))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((condition, signal));
        }

        return signal.Task;
    }

    private readonly List<(Func<VersionState, bool> Condition, TaskCompletionSource Signal)> _waiters = [];

    public Task<string> WriteAsync(VersionState state, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var hook = BeforeWrite;
        BeforeWrite = null;
        hook?.Invoke(this);
        lock (_gate)
        {
            if (expectedETag != _etag)
            {
                throw new VersionStateConflictException("stale ETag");
            }

            _state = state;
            _etag = Guid.NewGuid().ToString("N");
            _writes++;
            foreach (var waiter in _waiters.Where(w => w.Condition(state)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Signal.TrySetResult();
            }

            return Task.FromResult(_etag);
        }
    }

    public Task AppendHistoryAsync(RolloutHistoryEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _history.Insert(0, entry);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RolloutHistoryEntry>> ReadHistoryAsync(int maxCount, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<RolloutHistoryEntry>>([.. _history.Take(maxCount)]);
        }
    }
}
