using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using IoMT.Deployment.Testing;
using Microsoft.Extensions.Time.Testing;

namespace IoMT.Deployment.Blobs.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class BlobRolloutLockTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static readonly BlobRolloutLockOptions ShortLease = new() { LeaseDuration = TimeSpan.FromSeconds(15), RenewInterval = TimeSpan.FromSeconds(5), SafetyMargin = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task Taking_the_lock_creates_the_container_and_lock_blob_and_holds_a_lease()
    {
        var container = azurite.ServiceClient.GetBlobContainerClient(AzuriteFixture.NewContainerName("lock"));
        var log = new LogProbe<BlobRolloutLock>();
        var rolloutLock = new BlobRolloutLock(container, logger: log);

        await using var lease = await rolloutLock.TryAcquireAsync("worker-1");

        Assert.NotNull(lease);
        var properties = (await container.GetBlobClient("rollout.lock").GetPropertiesAsync()).Value;
        Assert.Equal(LeaseState.Leased, properties.LeaseState);
        Assert.Equal(LeaseDurationType.Fixed, properties.LeaseDuration);
        Assert.Equal("worker-1", properties.Metadata["owner"]);
        Assert.False(lease.LeaseLost.IsCancellationRequested);
        Assert.Single(log.WithId(2207));
        Assert.Single(log.WithId(2200));
    }

    [Fact]
    public async Task A_replica_that_cannot_take_the_lease_gets_null_and_a_log_line_naming_the_holder()
    {
        var container = await azurite.CreateContainerAsync();
        var first = new BlobRolloutLock(container, timeProvider: new FakeTimeProvider());
        var log = new LogProbe<BlobRolloutLock>();
        var second = new BlobRolloutLock(azurite.CreateServiceClient().GetBlobContainerClient(container.Name), logger: log);

        await using var held = await first.TryAcquireAsync("replica-a on host-1");
        var refused = await second.TryAcquireAsync("replica-b on host-2");

        Assert.NotNull(held);
        Assert.Null(refused);
        var line = Assert.Single(log.WithId(2201));
        Assert.StartsWith("replica-a on host-1", line.GetStructuredStateValue("Holder"), StringComparison.Ordinal);
        Assert.Equal("replica-b on host-2", line.GetStructuredStateValue("Owner"));
    }

    [Fact]
    public async Task Disposing_the_lease_releases_the_lock_for_the_next_rollout()
    {
        var container = await azurite.CreateContainerAsync();
        var rolloutLock = new BlobRolloutLock(container, timeProvider: new FakeTimeProvider());

        var first = await rolloutLock.TryAcquireAsync("run-1");
        Assert.NotNull(first);
        await first.DisposeAsync();
        await using var second = await rolloutLock.TryAcquireAsync("run-2");

        Assert.NotNull(second);
        Assert.False(first.LeaseLost.IsCancellationRequested, "A released lease was not lost.");
    }

    [Fact]
    public async Task The_lease_is_renewed_on_the_timer_and_stays_held()
    {
        var container = await azurite.CreateContainerAsync();
        var time = new FakeTimeProvider();
        var recorder = new RequestRecorder();
        var log = new LogProbe<BlobRolloutLock>();
        var rolloutLock = new BlobRolloutLock(azurite.CreateServiceClient(recorder).GetBlobContainerClient(container.Name), ShortLease, time, log);
        await using var lease = await rolloutLock.TryAcquireAsync("worker");
        Assert.NotNull(lease);
        Assert.Empty(log.WithId(2202));

        time.Advance(ShortLease.RenewInterval);
        await log.WaitForAsync(2202, timeout: Wait);

        Assert.Single(recorder.Requests, r => r.Headers.TryGetValue("x-ms-lease-action", out var action) && action == "renew");
        Assert.False(lease.LeaseLost.IsCancellationRequested);
        Assert.Null(await new BlobRolloutLock(container, ShortLease).TryAcquireAsync("other"));
    }

    // Expiry is simulated by breaking the lease with no break period: afterwards the lock blob is in the state an expired
    // lease leaves (acquirable), without waiting out the 15 s.
    [Fact]
    public async Task An_expired_lease_is_taken_over_and_its_former_holder_loses_it()
    {
        var container = await azurite.CreateContainerAsync();
        var timeA = new FakeTimeProvider();
        var logA = new LogProbe<BlobRolloutLock>();
        var replicaA = new BlobRolloutLock(container, ShortLease, timeA, logA);
        var replicaB = new BlobRolloutLock(azurite.CreateServiceClient().GetBlobContainerClient(container.Name), ShortLease, new FakeTimeProvider());
        var leaseA = await replicaA.TryAcquireAsync("replica-a");
        Assert.NotNull(leaseA);
        Assert.Null(await replicaB.TryAcquireAsync("replica-b"));

        await container.GetBlobClient("rollout.lock").GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        await using var leaseB = await replicaB.TryAcquireAsync("replica-b");

        Assert.NotNull(leaseB);
        timeA.Advance(ShortLease.RenewInterval);
        await leaseA.LeaseLost.WhenCancelledAsync(Wait);
        Assert.Single(logA.WithId(2204));

        // A's end of rollout must not release B's lease.
        await leaseA.DisposeAsync();
        Assert.Empty(logA.WithId(2205));
        Assert.Null(await replicaA.TryAcquireAsync("replica-a again"));
        Assert.False(leaseB.LeaseLost.IsCancellationRequested);
    }

    [Fact]
    public async Task A_lease_broken_mid_rollout_cancels_the_rollout_at_the_next_renewal()
    {
        var container = await azurite.CreateContainerAsync();
        var time = new FakeTimeProvider();
        var log = new LogProbe<BlobRolloutLock>();
        await using var lease = await new BlobRolloutLock(container, new BlobRolloutLockOptions(), time, log).TryAcquireAsync("worker");
        Assert.NotNull(lease);

        // A long rollout step that honours the token, as the engine's connector steps do.
        var rollout = Task.Delay(Timeout.InfiniteTimeSpan, lease.LeaseLost);
        await container.GetBlobClient("rollout.lock").GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        Assert.False(rollout.IsCompleted, "Breaking alone is not noticed until the next renewal.");

        time.Advance(TimeSpan.FromSeconds(20));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rollout.WaitAsync(Wait));
        var lost = Assert.Single(log.WithId(2204));
        Assert.Equal("409", lost.GetStructuredStateValue("Status"));
    }

    [Fact]
    public async Task A_failed_renewal_is_retried_while_the_lease_is_valid_and_lost_when_it_cannot_be_renewed_in_time()
    {
        var (rolloutLock, failRenewals, time, log) = await LockWithFailingRenewalsAsync();
        await using var lease = await rolloutLock.TryAcquireAsync("worker");
        Assert.NotNull(lease);
        failRenewals.Failing = true;

        time.Advance(TimeSpan.FromSeconds(20));
        await log.WaitForAsync(2203, timeout: Wait);
        Assert.False(lease.LeaseLost.IsCancellationRequested, "At 20 s of a 60 s lease one failed renewal leaves time to retry.");

        time.Advance(TimeSpan.FromSeconds(20));
        await lease.LeaseLost.WhenCancelledAsync(Wait);
        Assert.Single(log.WithId(2203));
        Assert.Single(log.WithId(2204));
    }

    [Fact]
    public async Task A_renewal_that_recovers_keeps_the_lease()
    {
        var (rolloutLock, failRenewals, time, log) = await LockWithFailingRenewalsAsync();
        await using var lease = await rolloutLock.TryAcquireAsync("worker");
        Assert.NotNull(lease);

        failRenewals.Failing = true;
        time.Advance(TimeSpan.FromSeconds(20));
        await log.WaitForAsync(2203, timeout: Wait);
        failRenewals.Failing = false;
        time.Advance(TimeSpan.FromSeconds(20));
        await log.WaitForAsync(2202, timeout: Wait);
        time.Advance(TimeSpan.FromSeconds(20));
        await log.WaitForAsync(2202, count: 2, timeout: Wait);

        Assert.False(lease.LeaseLost.IsCancellationRequested, "Renewed at 40 s, the lease is valid until 100 s.");
        Assert.Empty(log.WithId(2204));
    }

    [Fact]
    public void Lock_options_are_validated_with_messages_that_name_the_setting()
    {
        var container = azurite.ServiceClient.GetBlobContainerClient("unused");

        var tooShort = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new BlobRolloutLock(container, new BlobRolloutLockOptions { LeaseDuration = TimeSpan.FromSeconds(10) }));
        var renewTooSlow = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new BlobRolloutLock(container, new BlobRolloutLockOptions { LeaseDuration = TimeSpan.FromSeconds(30), RenewInterval = TimeSpan.FromSeconds(30) }));
        var noRoomForMargin = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new BlobRolloutLock(container, new BlobRolloutLockOptions { LeaseDuration = TimeSpan.FromSeconds(15), RenewInterval = TimeSpan.FromSeconds(5) }));
        var marginTooLong = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new BlobRolloutLock(container, new BlobRolloutLockOptions { SafetyMargin = TimeSpan.FromMinutes(1) }));

        Assert.Contains("IoMTDeployment:BlobLock:LeaseDuration", tooShort.Message, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:BlobLock:RenewInterval", renewTooSlow.Message, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:BlobLock:SafetyMargin", noRoomForMargin.Message, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:BlobLock:SafetyMargin", marginTooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_holder_whose_storage_stops_answering_gives_the_lease_up_before_it_can_expire()
    {
        var container = await azurite.CreateContainerAsync();
        await using var relay = TcpRelay.Start(azurite.ServiceUri.Port);
        var time = new FakeTimeProvider();
        var log = new LogProbe<BlobRolloutLock>();

        // The storage client keeps its default retries (6 tries, 100 s network timeout each): the lease must not depend on them.
        var options = new BlobRolloutLockOptions { LeaseDuration = TimeSpan.FromSeconds(15), RenewInterval = TimeSpan.FromSeconds(4), SafetyMargin = TimeSpan.FromSeconds(5) };
        var rolloutLock = new BlobRolloutLock(AzuriteFixture.ThroughRelay(relay).GetBlobContainerClient(container.Name), options, time, log);
        var start = time.GetUtcNow();
        var lease = await rolloutLock.TryAcquireAsync("worker");
        Assert.NotNull(lease);
        DateTimeOffset? lostAt = null;
        using var registration = lease.LeaseLost.Register(() => lostAt = time.GetUtcNow());

        relay.Mode = RelayMode.Hold;
        for (var second = 1; second <= 15 && !lease.LeaseLost.IsCancellationRequested; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            if (second == 4)
            {
                // The renewal is on the wire and will never be answered.
                await relay.BytesHeld.WaitAsync(Wait);
            }
        }

        await lease.LeaseLost.WhenCancelledAsync(Wait);
        Assert.NotNull(lostAt);
        Assert.True(lostAt <= start + options.LeaseDuration - options.SafetyMargin, $"LeaseLost fired at +{lostAt - start}, later than the lease's expiry minus the margin.");

        // Only milliseconds of real time went by: on the service the lease is still held, so it was given up before it expired.
        var properties = (await container.GetBlobClient("rollout.lock").GetPropertiesAsync()).Value;
        Assert.Equal(LeaseState.Leased, properties.LeaseState);
        // Given up either after the last attempt that could finish in time failed (2204) or by the switch (2208).
        await await Task.WhenAny(log.WaitForAsync(2204, timeout: Wait), log.WaitForAsync(2208, timeout: Wait));

        var disposing = lease.DisposeAsync().AsTask();
        await disposing.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_release_that_gets_no_answer_is_given_up_after_the_release_timeout_and_logged()
    {
        var container = await azurite.CreateContainerAsync();
        await using var relay = TcpRelay.Start(azurite.ServiceUri.Port);
        var time = new FakeTimeProvider();
        var log = new LogProbe<BlobRolloutLock>();
        var rolloutLock = new BlobRolloutLock(AzuriteFixture.ThroughRelay(relay).GetBlobContainerClient(container.Name), ShortLease, time, log);
        var lease = await rolloutLock.TryAcquireAsync("worker");
        Assert.NotNull(lease);

        relay.Mode = RelayMode.Hold;
        var disposing = lease.DisposeAsync().AsTask();
        await relay.BytesHeld.WaitAsync(Wait);
        Assert.False(disposing.IsCompleted, "The release is waiting for an answer.");
        time.Advance(ShortLease.ReleaseTimeout);

        await disposing.WaitAsync(Wait);
        var failed = Assert.Single(log.WithId(2206));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, failed.Level);
        Assert.Contains("no answer within 5 s", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_release_whose_retries_run_out_is_logged_and_does_not_throw()
    {
        var container = await azurite.CreateContainerAsync();
        await using var relay = TcpRelay.Start(azurite.ServiceUri.Port);
        var log = new LogProbe<BlobRolloutLock>();
        var clientOptions = AzuriteFixture.ClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var rolloutLock = new BlobRolloutLock(AzuriteFixture.ThroughRelay(relay, clientOptions).GetBlobContainerClient(container.Name), ShortLease, new FakeTimeProvider(), log);
        var lease = await rolloutLock.TryAcquireAsync("worker");
        Assert.NotNull(lease);

        // Connections reset: the client retries and gives up with an AggregateException, which must not escape.
        relay.Mode = RelayMode.Reset;
        await lease.DisposeAsync().AsTask().WaitAsync(Wait);

        var failed = Assert.Single(log.WithId(2206));
        Assert.IsType<AggregateException>(failed.Exception);
    }

    [Fact]
    public async Task Taking_the_lock_on_an_unreachable_account_fails_with_a_store_unavailable_error_naming_the_lock_within_the_bound()
    {
        var client = AzuriteFixture.Unreachable(TimeSpan.FromSeconds(4));
        var rolloutLock = new BlobRolloutLock(client.GetBlobContainerClient("iomt-rollout-lock"));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => rolloutLock.TryAcquireAsync("worker"));

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(4), "Failed within the configured bound.");
        Assert.Equal(StoreUnavailableException.RolloutLock, error.Store);
        Assert.True(error.IsTransient);
        Assert.Equal($"{client.Uri}/iomt-rollout-lock", error.Endpoint);
        Assert.Contains("rollout lock", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.Endpoint, error.Message, StringComparison.Ordinal);
        Assert.Contains("take the lock rollout.lock", error.Message, StringComparison.Ordinal);
    }


    /// <summary>A lock with the default 60 s lease renewed every 20 s, whose renewals fail (transport error, no retry) while told to.</summary>
    private async Task<(BlobRolloutLock Lock, FailWhile FailRenewals, FakeTimeProvider Time, LogProbe<BlobRolloutLock> Log)> LockWithFailingRenewalsAsync()
    {
        var container = await azurite.CreateContainerAsync();
        var failRenewals = new FailWhile(m => m.Request.Headers.TryGetValue("x-ms-lease-action", out var action) && action == "renew");
        var options = AzuriteFixture.ClientOptions(failRenewals);
        options.Retry.MaxRetries = 0;
        var client = new BlobServiceClient(azurite.ConnectionString, options).GetBlobContainerClient(container.Name);
        var time = new FakeTimeProvider();
        var log = new LogProbe<BlobRolloutLock>();
        return (new BlobRolloutLock(client, new BlobRolloutLockOptions(), time, log), failRenewals, time, log);
    }
}
