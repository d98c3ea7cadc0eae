using IoMT.Deployment.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment;

/// <summary>
/// The hourly update worker: runs <see cref="IRolloutEngine.UpdateAsync"/> on a period driven by <see cref="TimeProvider"/>.
/// While a progressive rollout is active it ticks every <see cref="UpdateWorkerOptions.ActivePeriod"/> (sooner when a bake
/// ends first), then returns to the hourly period. No exception stops the host; each failed run is logged and counted,
/// and the next period tries again.
/// </summary>
public sealed class UpdateWorker : BackgroundService
{
    private readonly IServiceScopeFactory _scopes;
    private readonly UpdateWorkerOptions _options;
    private readonly TimeProvider _time;
    private readonly DeploymentMetrics _metrics;
    private readonly ILogger<UpdateWorker> _logger;

    /// <summary>Creates the worker.</summary>
    /// <param name="scopes">Creates a scope per run.</param>
    /// <param name="options">When to run.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="metrics">The metrics.</param>
    /// <param name="logger">The logger.</param>
    public UpdateWorker(IServiceScopeFactory scopes, IOptions<UpdateWorkerOptions> options, TimeProvider timeProvider, DeploymentMetrics metrics, ILogger<UpdateWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _scopes = scopes;
        _options = options.Value;
        _time = timeProvider;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Gets how many runs finished (successfully or not) since the worker started.</summary>
    internal int CompletedRuns => Volatile.Read(ref _completedRuns);

    /// <summary>Gets the time between two update checks when no rollout is active, for health checks that judge <see cref="LastRun"/>.</summary>
    public TimeSpan Period => _options.Period;

    /// <summary>Gets the last run that ended, or <see langword="null"/> before the first one ends. A run cancelled by the host's stop is not recorded.</summary>
    public UpdateWorkerRun? LastRun => Volatile.Read(ref _lastRun);

    private UpdateWorkerRun? _lastRun;

    private readonly SemaphoreSlim _ticks = new(0, 1);
    private ITimer? _timer;
    private int _completedRuns;
    private bool _active;

    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The timer exists once StartAsync returns, so the schedule is fixed from the start (and testable with a fake clock).
        _timer = _time.CreateTimer(static state => ((UpdateWorker)state!).Tick(), this, _options.InitialDelay, _options.Period);
        Log.WorkerStarted(_logger, _options.InitialDelay, _options.Period);
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _timer?.Dispose();
        _ticks.Dispose();
        base.Dispose();
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await _ticks.WaitAsync(stoppingToken).ConfigureAwait(false);
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Log.WorkerStopping(_logger);
        }
    }

    /// <summary>Ticks again soon while a rollout is active (at a bake's end when that comes first); hourly otherwise.</summary>
    private void Schedule(RolloutReport? report)
    {
        if (_timer is null)
        {
            return;
        }

        if (report?.Rollout is { IsActive: true })
        {
            var due = _options.ActivePeriod;
            if (report.NextTickAt is { } at && at - _time.GetUtcNow() is var untilBake && untilBake < due)
            {
                due = untilBake < TimeSpan.Zero ? TimeSpan.Zero : untilBake;
            }

            _timer.Change(due, _options.Period);
            _active = true;
        }
        else if (_active)
        {
            _timer.Change(_options.Period, _options.Period);
            _active = false;
        }
    }

    private void Tick()
    {
        // Ticks that arrive while a run is still going coalesce into one pending run.
        lock (_ticks)
        {
            if (_ticks.CurrentCount == 0)
            {
                _ticks.Release();
            }
        }
    }

    /// <summary>Runs one update check, logging and counting any failure instead of throwing it.</summary>
    /// <param name="stoppingToken">The host's stopping token.</param>
    /// <returns>A task that completes when the run ended.</returns>
    /// <exception cref="OperationCanceledException">The host is stopping.</exception>
    internal async Task RunOnceAsync(CancellationToken stoppingToken)
    {
        var startedAt = _time.GetUtcNow();
        var outcome = UpdateWorkerRunOutcome.Failed;
        string? error = null;
        try
        {
            var scope = _scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var engine = scope.ServiceProvider.GetRequiredService<IRolloutEngine>();
                var report = await engine.UpdateAsync(progress: null, stoppingToken).ConfigureAwait(false);
                Schedule(report);
                outcome = UpdateWorkerRunOutcome.Succeeded;
            }
        }
        catch (RolloutLockHeldException)
        {
            // Another replica runs the rollout; the engine logged it. Not a failure.
            outcome = UpdateWorkerRunOutcome.LockHeld;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // The engine logged the exception with its details; log the run's failure once more, briefly.
            Log.WorkerRunFailed(_logger, ex.GetType().Name, ex.Message);
            _metrics.Error("worker");
            error = ex.GetType().Name;
        }
        finally
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                Volatile.Write(ref _lastRun, new UpdateWorkerRun(startedAt, _time.GetUtcNow(), outcome, error));
            }

            Interlocked.Increment(ref _completedRuns);
        }
    }
}

/// <summary>How one run of the <see cref="UpdateWorker"/> ended.</summary>
public enum UpdateWorkerRunOutcome
{
    /// <summary>The update check ran to its end (whatever the rollout's own status).</summary>
    Succeeded,

    /// <summary>Another replica held the rollout lock; this replica skipped the run. Not a failure.</summary>
    LockHeld,

    /// <summary>The run threw; it was logged and counted, and the next period tries again.</summary>
    Failed,
}

/// <summary>One ended run of the <see cref="UpdateWorker"/>, as health checks see it.</summary>
/// <param name="StartedAt">When the run started (the worker's <see cref="TimeProvider"/>).</param>
/// <param name="CompletedAt">When it ended.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="ErrorType">The exception type's name when <paramref name="Outcome"/> is <see cref="UpdateWorkerRunOutcome.Failed"/>; never its message, which may name a resource.</param>
public sealed record UpdateWorkerRun(DateTimeOffset StartedAt, DateTimeOffset CompletedAt, UpdateWorkerRunOutcome Outcome, string? ErrorType);
