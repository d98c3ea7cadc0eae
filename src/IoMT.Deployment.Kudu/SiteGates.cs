using System.Collections.Concurrent;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// One async lock per Function app. App settings are written read-merge-PUT (the PUT replaces every setting), so two
/// writers of the same app would lose each other's change; and a settings change restarts the app, so it must not
/// happen while the deployer's own deployment runs.
/// </summary>
internal sealed class SiteGates
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.OrdinalIgnoreCase);

    public async ValueTask<Releaser> EnterAsync(string siteId, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(siteId, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(gate);
    }

    internal readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
