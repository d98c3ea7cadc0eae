using IoMT.Deployment.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace IoMT.Deployment.Tests;

public class UpdateWorkerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private sealed class Harness : IAsyncDisposable
    {
        public TickCountingTime Time { get; } = new();

        public Mock<IRolloutEngine> Engine { get; } = new();

        /// <summary>One item per finished run: the run's scope disposes the engine after the worker rescheduled its timer.</summary>
        public System.Threading.Channels.Channel<int> RunsEnded { get; } = System.Threading.Channels.Channel.CreateUnbounded<int>();

        private int _ended;

        public FakeLogCollector Logs { get; } = new();

        public DeploymentMetrics Metrics { get; } = new();

        public UpdateWorkerOptions Options { get; } = new() { InitialDelay = TimeSpan.FromSeconds(30), Period = TimeSpan.FromHours(1) };

        public ServiceProvider Services { get; }

        public UpdateWorker Worker { get; }

        public Harness()
        {
            Engine.As<IAsyncDisposable>().Setup(d => d.DisposeAsync()).Returns(() =>
            {
                RunsEnded.Writer.TryWrite(Interlocked.Increment(ref _ended));
                return ValueTask.CompletedTask;
            });
            var services = new ServiceCollection();
            services.AddScoped(_ => Engine.Object);
            Services = services.BuildServiceProvider();
            Worker = new UpdateWorker(Services.GetRequiredService<IServiceScopeFactory>(), Microsoft.Extensions.Options.Options.Create(Options), Time, Metrics, new FakeLogger<UpdateWorker>(Logs));
        }

        /// <summary>Waits (bounded) until run <paramref name="run"/> has ended, bookkeeping included.</summary>
        public async Task RunEndedAsync(int run)
        {
            var ended = await RunsEnded.Reader.ReadAsync().AsTask().WaitAsync(Wait);
            Assert.Equal(run, ended);
        }

        public async ValueTask DisposeAsync()
        {
            Worker.Dispose();
            Metrics.Dispose();
            await Services.DisposeAsync();
        }
    }

    private static RolloutReport Report() => new()
    {
        RolloutId = "r",
        Kind = RolloutKind.Straggler,
        Target = BuildNumber.Parse("1"),
        StartedAt = DateTimeOffset.UnixEpoch,
        CompletedAt = DateTimeOffset.UnixEpoch,
        Connectors = [],
        Succeeded = true,
    };

    [Fact]
    public async Task LastRun_records_each_ended_run_with_its_outcome_and_error_type_but_not_a_stop()
    {
        await using var h = new Harness();
        Assert.Null(h.Worker.LastRun);
        Assert.Equal(TimeSpan.FromHours(1), h.Worker.Period);

        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>())).ReturnsAsync(Report());
        var started = h.Time.GetUtcNow();
        await h.Worker.RunOnceAsync(CancellationToken.None);
        Assert.Equal(new UpdateWorkerRun(started, started, UpdateWorkerRunOutcome.Succeeded, null), h.Worker.LastRun);

        h.Time.Advance(TimeSpan.FromMinutes(5));
        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>())).ThrowsAsync(new RolloutLockHeldException("held"));
        await h.Worker.RunOnceAsync(CancellationToken.None);
        Assert.Equal(UpdateWorkerRunOutcome.LockHeld, h.Worker.LastRun!.Outcome);
        Assert.Equal(h.Time.GetUtcNow(), h.Worker.LastRun.StartedAt);

        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>())).ThrowsAsync(new ArtifactStoreException("the container https://secret.example/x is gone"));
        await h.Worker.RunOnceAsync(CancellationToken.None);
        Assert.Equal(UpdateWorkerRunOutcome.Failed, h.Worker.LastRun!.Outcome);
        Assert.Equal(nameof(ArtifactStoreException), h.Worker.LastRun.ErrorType);

        var failed = h.Worker.LastRun;
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();
        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>())).ThrowsAsync(new OperationCanceledException(stopping.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Worker.RunOnceAsync(stopping.Token));
        Assert.Same(failed, h.Worker.LastRun);
    }

    [Fact]
    public async Task Runs_after_the_initial_delay_then_every_period_and_survives_exceptions()
    {
        await using var h = new Harness();
        var calls = 0;
        var signals = new[] { new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource() };
        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                var n = Interlocked.Increment(ref calls);
                signals[n - 1].TrySetResult();
                return n switch
                {
                    1 => Task.FromException<RolloutReport>(new ArtifactStoreException("The container 'iomtconnector' does not exist.")),
                    2 => Task.FromException<RolloutReport>(new RolloutLockHeldException("held")),
                    _ => Task.FromResult(Report()),
                };
            });
        using var errors = new MetricCollector<long>(h.Metrics.Meter, "iomt.deployment.errors");

        await h.Worker.StartAsync(CancellationToken.None);

        // The fake clock fires due timers inside Advance, so the tick count is exact when Advance returns.
        h.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, h.Time.Ticks);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, h.Time.Ticks);
        await signals[0].Task.WaitAsync(Wait);
        await h.RunEndedAsync(1);
        h.Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        Assert.Equal(1, h.Time.Ticks);
        h.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(2, h.Time.Ticks);
        await signals[1].Task.WaitAsync(Wait);
        await h.RunEndedAsync(2);
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(3, h.Time.Ticks);
        await signals[2].Task.WaitAsync(Wait);
        await h.RunEndedAsync(3);
        await h.Worker.StopAsync(CancellationToken.None);

        Assert.Equal(3, calls);
        var failure = Assert.Single(h.Logs.GetSnapshot(), r => r.Id.Id == 1021);
        Assert.Contains("iomtconnector", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, errors.GetMeasurementSnapshot().Count(m => (string?)m.Tags["operation"] == "worker"));
        Assert.True(h.Worker.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Stopping_cancels_a_running_check_promptly()
    {
        await using var h = new Harness();
        var started = new TaskCompletionSource();
        CancellationToken seen = default;
        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>()))
            .Returns(async (IProgress<ConnectorResult>? _, CancellationToken ct) =>
            {
                seen = ct;
                started.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                return Report();
            });

        await h.Worker.StartAsync(CancellationToken.None);
        h.Time.Advance(h.Options.InitialDelay);
        await started.Task.WaitAsync(Wait);
        await h.Worker.StopAsync(CancellationToken.None).WaitAsync(Wait);

        Assert.True(seen.IsCancellationRequested);
        Assert.True(h.Worker.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Id.Id == 1022);
        Assert.DoesNotContain(h.Logs.GetSnapshot(), r => r.Id.Id == 1021);
    }

    [Fact]
    public async Task Stopping_during_the_initial_delay_runs_nothing()
    {
        await using var h = new Harness();

        await h.Worker.StartAsync(CancellationToken.None);
        h.Time.Advance(h.Options.InitialDelay - TimeSpan.FromSeconds(1));
        await h.Worker.StopAsync(CancellationToken.None).WaitAsync(Wait);

        // Past the initial delay and a whole period: a stopped worker's timer never fires, so nothing can run.
        h.Time.Advance(TimeSpan.FromSeconds(1) + h.Options.Period);
        Assert.Equal(0, h.Time.Ticks);
        Assert.False(h.Worker.ExecuteTask!.IsFaulted);
        h.Engine.Verify(e => e.UpdateAsync(It.IsAny<IProgress<ConnectorResult>?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Ticks_every_active_period_while_a_rollout_is_active_and_at_a_bake_end_then_hourly_again()
    {
        await using var h = new Harness();
        h.Options.ActivePeriod = TimeSpan.FromMinutes(1);
        var runs = new List<DateTimeOffset>();
        var next = new TaskCompletionSource();
        var start = h.Time.GetUtcNow();
        RolloutRecord Record(RolloutStatus status) => new() { Id = "r", Target = BuildNumber.Parse("2"), Fingerprint = "f", StartedAt = start, Status = status };
        h.Engine.Setup(e => e.UpdateAsync(null, It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                runs.Add(h.Time.GetUtcNow());
                var report = runs.Count switch
                {
                    1 => Report() with { Rollout = Record(RolloutStatus.Baking), NextTickAt = h.Time.GetUtcNow() + TimeSpan.FromSeconds(20) },
                    2 => Report() with { Rollout = Record(RolloutStatus.Running) },
                    _ => Report() with { Rollout = Record(RolloutStatus.Completed) },
                };
                var done = next;
                next = new TaskCompletionSource();
                done.TrySetResult();
                return Task.FromResult(report);
            });
        await h.Worker.StartAsync(CancellationToken.None);

        async Task AdvanceUntilRun(TimeSpan step, int expected)
        {
            var waiting = next.Task;
            h.Time.Advance(step - TimeSpan.FromTicks(1));
            Assert.Equal(expected - 1, h.Time.Ticks);
            h.Time.Advance(TimeSpan.FromTicks(1));
            Assert.Equal(expected, h.Time.Ticks);
            await waiting.WaitAsync(Wait);
            Assert.Equal(expected, runs.Count);

            // The run reschedules the timer after the engine returns: wait for the run to end before moving the clock.
            await h.RunEndedAsync(expected);
        }

        await AdvanceUntilRun(h.Options.InitialDelay, 1);
        await AdvanceUntilRun(TimeSpan.FromSeconds(20), 2);
        await AdvanceUntilRun(TimeSpan.FromMinutes(1), 3);

        // Completed: back to the hourly period.
        var waiting = next.Task;
        h.Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(3, h.Time.Ticks);
        h.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(4, h.Time.Ticks);
        await waiting.WaitAsync(Wait);
        Assert.Equal(4, runs.Count);
        Assert.Equal([TimeSpan.FromSeconds(20), TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)], runs.Zip(runs.Skip(1), (a, b) => b - a));
        await h.Worker.StopAsync(CancellationToken.None);
    }

    /// <summary>A fake clock that counts the timer callbacks it fires (inside <see cref="FakeTimeProvider.Advance"/>).</summary>
    private sealed class TickCountingTime : FakeTimeProvider
    {
        private int _ticks;

        public int Ticks => Volatile.Read(ref _ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(
                s =>
                {
                    Interlocked.Increment(ref _ticks);
                    callback(s);
                },
                state,
                dueTime,
                period);
    }
}
