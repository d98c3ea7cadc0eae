using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IoMT.Deployment.WorkerHost;

/// <summary>The version store answers a read of the version state.</summary>
/// <param name="store">The version store.</param>
public sealed class VersionStoreHealthCheck(IVersionStore store) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var entry = await store.ReadAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(entry.State.Current is { } current ? $"Current build {current}." : "No build is current yet.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The type only: a store's message may name an endpoint.
            return HealthCheckResult.Unhealthy($"The version store cannot be read ({ex.GetType().Name}).");
        }
    }
}

/// <summary>The artifact container can be listed (a read; the worker never writes it).</summary>
/// <param name="source">The artifact source.</param>
public sealed class ArtifactContainerHealthCheck(IArtifactSource source) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var builds = 0;
            await foreach (var _ in source.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                builds++;
            }

            return HealthCheckResult.Healthy($"{builds} build(s) delivered.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The artifact container cannot be read ({ex.GetType().Name}).");
        }
    }
}

/// <summary>The rollout lock's store answers (the lease is not taken).</summary>
/// <param name="probe">The provider's probe.</param>
public sealed class RolloutLockHealthCheck(RolloutLockProbe probe) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await probe.CheckAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The rollout lock's store cannot be reached ({ex.GetType().Name}).");
        }
    }
}

/// <summary>
/// The update worker's last run: degraded when it failed or ended more than two periods ago; healthy before the first run
/// ends and while runs succeed (or are skipped because another replica holds the lock).
/// </summary>
/// <param name="hosted">The hosted services, among them the <see cref="UpdateWorker"/>.</param>
/// <param name="time">The clock.</param>
public sealed class LastUpdateRunHealthCheck(IEnumerable<IHostedService> hosted, TimeProvider time) : IHealthCheck
{
    private readonly UpdateWorker? _worker = hosted.OfType<UpdateWorker>().FirstOrDefault();

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_worker is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("No update worker is registered."));
        }

        var result = _worker.LastRun switch
        {
            null => HealthCheckResult.Healthy("No update run has ended yet."),
            { Outcome: UpdateWorkerRunOutcome.Failed } run => HealthCheckResult.Degraded($"The last update run failed at {run.CompletedAt:O} ({run.ErrorType})."),
            var run when time.GetUtcNow() - run.CompletedAt > 2 * _worker.Period =>
                HealthCheckResult.Degraded($"The last update run ended at {run.CompletedAt:O}, more than two periods ago."),
            var run => HealthCheckResult.Healthy($"The last update run ended at {run.CompletedAt:O} ({run.Outcome})."),
        };
        return Task.FromResult(result);
    }
}
