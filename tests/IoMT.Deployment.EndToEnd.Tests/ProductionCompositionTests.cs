using Azure.Storage.Blobs.Models;
using IoMT.Deployment.Blobs;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment.EndToEnd.Tests;

/// <summary>
/// The production composition (Blob artifacts and lease on Azurite, Cosmos state and inventory on cosmosdb-server, Kudu
/// deployer on the loopback App Service host) driven through the engine, as the worker and the pipeline use it.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class ProductionCompositionTests(TestServersFixture servers)
{
    private const string ProjectVersion = ProjectVersionSetting.Name;

    [Fact]
    public async Task Deliver_update_delete_rollback_and_straggler_run_work_end_to_end()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var build2 = await world.DeliverAsync(delivery, "2");
        var apps = await world.AddConnectorsAsync(6);
        var engine = world.CreateWorker().GetRequiredService<IRolloutEngine>();

        // Update: every connector from nothing to the newest build.
        var update = await engine.UpdateAsync();

        AssertSucceeded(update, RolloutKind.Update, "2");
        Assert.Equal(6, update.Count(ConnectorOutcome.Updated));
        foreach (var app in apps)
        {
            Assert.Equal("2", app.Settings[ProjectVersion]);
            Assert.Equal(ProductionWorld.FhirUrl(app.Name), app.Settings[ProductionWorld.FhirSetting]);
            Assert.Equal(build2.Sha256, app.DeployedPackageSha256);
            Assert.Equal(1, world.Host.CountRequests(AppServiceRoute.ZipDeploy, app.Name));
        }

        var afterUpdate = await world.ReadStoredStateAsync();
        Assert.Equal("2", afterUpdate.Current);
        Assert.Null(afterUpdate.InFlight);

        // A new build; one Function app disappears while its deployment runs.
        var build3 = await world.DeliverAsync(delivery, "3");
        var doomed = apps[5];
        var survivors = apps.Take(5).ToList();
        doomed.Faults.DeleteDuringNextDeployment = true;

        var next = await engine.UpdateAsync();

        AssertSucceeded(next, RolloutKind.Update, "3");
        Assert.Equal("2", next.From?.ToString());
        Assert.Equal(ConnectorOutcome.Deleted, Assert.Single(next.Connectors, c => c.Connector.Id == doomed.Name).Outcome);
        Assert.Equal(5, next.Count(ConnectorOutcome.Updated));
        Assert.True(doomed.IsDeleted);
        foreach (var app in survivors)
        {
            Assert.Equal("3", app.Settings[ProjectVersion]);
            Assert.Equal(ProductionWorld.FhirUrl(app.Name), app.Settings[ProductionWorld.FhirSetting]);
            Assert.Equal(build3.Sha256, app.DeployedPackageSha256);
        }

        Assert.Equal("3", (await world.ReadStoredStateAsync()).Current);

        // Connector deletion removes its document too: from now on the inventory agrees with App Service.
        await world.DeleteConnectorDocumentAsync(doomed);

        // Roll back: build 3 is invalidated, everyone returns to build 2.
        var rollback = await engine.RollbackAsync(new RollbackRequest("build 3 breaks the FHIR mapping", "e2e-operator"));

        AssertSucceeded(rollback, RolloutKind.Rollback, "2");
        Assert.Equal(5, rollback.Count(ConnectorOutcome.Updated));
        Assert.Equal(5, rollback.Connectors.Count);
        foreach (var app in survivors)
        {
            Assert.Equal("2", app.Settings[ProjectVersion]);
            Assert.Equal(ProductionWorld.FhirUrl(app.Name), app.Settings[ProductionWorld.FhirSetting]);
            Assert.Equal(build2.Sha256, app.DeployedPackageSha256);
        }

        var afterRollback = await world.ReadStoredStateAsync();
        Assert.Equal("2", afterRollback.Current);
        Assert.Null(afterRollback.InFlight);
        Assert.Equal(["3"], afterRollback.Invalidated);

        // The next check finds no update (3 is invalidated): a straggler run that deploys nothing.
        var deploysBefore = world.ZipDeploys(survivors);
        var settingsWritesBefore = survivors.Sum(a => a.SettingsWriteCount);

        var straggler = await engine.UpdateAsync();

        AssertSucceeded(straggler, RolloutKind.Straggler, "2");
        Assert.Equal(5, straggler.Connectors.Count);
        Assert.All(straggler.Connectors, c => Assert.Equal(ConnectorOutcome.AlreadyCurrent, c.Outcome));
        Assert.Equal(deploysBefore, world.ZipDeploys(survivors));
        Assert.Equal(settingsWritesBefore, survivors.Sum(a => a.SettingsWriteCount));
        Assert.Equal(afterRollback.ETag, (await world.ReadStoredStateAsync()).ETag);

        var fleet = await engine.VerifyAsync();

        Assert.Equal("2", fleet.Expected?.ToString());
        Assert.True(fleet.AllVerified);
        Assert.Equal(survivors.Select(a => a.Name).Order(StringComparer.Ordinal), fleet.Connectors.Select(c => c.Connector.Id));
        Assert.All(fleet.Connectors, c =>
        {
            Assert.Equal(VerificationOutcome.Verified, c.Outcome);
            Assert.Equal("2", c.ProjectVersion);
        });

        var history = (await engine.GetStatusAsync(includeFleet: false)).History;
        Assert.Equal([RolloutKind.Straggler, RolloutKind.Rollback, RolloutKind.Update, RolloutKind.Update], history.Select(h => h.Kind));
    }

    [Fact]
    public async Task A_second_replica_cannot_roll_out_while_another_holds_the_blob_lease()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(3);
        var replicaA = world.CreateWorker();
        var replicaB = world.CreateWorker();
        var engineB = replicaB.GetRequiredService<IRolloutEngine>();
        AssertSucceeded(await engineB.UpdateAsync(), RolloutKind.Update, "1");
        await world.DeliverAsync(delivery, "2");
        var before = await world.ReadStoredStateAsync();
        var deploysBefore = world.ZipDeploys(apps);

        var rolloutLock = replicaA.GetRequiredService<IRolloutLock>();
        Assert.IsType<BlobRolloutLock>(rolloutLock);
        await using (var lease = await rolloutLock.TryAcquireAsync("replica-a"))
        {
            Assert.NotNull(lease);

            await Assert.ThrowsAsync<RolloutLockHeldException>(() => engineB.UpdateAsync());

            // A rollback under a held lock checks its request first (it would invalidate the bad build to stop the
            // holder, then wait): here build 1 has no older build, so it is refused before anything changes.
            var refused = await Assert.ThrowsAsync<BuildNotFoundException>(() => engineB.RollbackAsync(new RollbackRequest("bad build", "e2e-operator")));
            Assert.Contains("no valid older build", refused.Message, StringComparison.Ordinal);

            var after = await world.ReadStoredStateAsync();
            Assert.Equal(before.ETag, after.ETag);
            Assert.Equal("1", after.Current);
            Assert.Null(after.InFlight);
            Assert.Empty(after.Invalidated);
            Assert.Equal(deploysBefore, world.ZipDeploys(apps));
            Assert.All(apps, a => Assert.Equal("1", a.Settings[ProjectVersion]));
        }

        // Once the lease is released, the same replica rolls out.
        AssertSucceeded(await engineB.UpdateAsync(), RolloutKind.Update, "2");
        Assert.All(apps, a => Assert.Equal("2", a.Settings[ProjectVersion]));
        Assert.Equal("2", (await world.ReadStoredStateAsync()).Current);
    }

    [Fact]
    public async Task A_tampered_blob_is_refused_before_any_app_is_touched()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        var delivered = await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(3);
        var engine = world.CreateWorker().GetRequiredService<IRolloutEngine>();

        // Someone with write access replaces the bytes and keeps the recorded hash.
        var blob = world.Artifacts.GetBlobClient("1.zip");
        var metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
        Assert.Equal(delivered.Sha256, metadata[BlobArtifactOptions.Sha256MetadataKey]);
        var tampered = await world.PackageAsync("1", "-tampered");
        await blob.UploadAsync(new BinaryData(tampered), new BlobUploadOptions { Metadata = metadata });
        Assert.Equal(delivered.Sha256, (await blob.GetPropertiesAsync()).Value.Metadata[BlobArtifactOptions.Sha256MetadataKey]);

        var refused = await Assert.ThrowsAsync<InvalidPackageException>(() => engine.UpdateAsync());

        Assert.Equal("1", refused.Build?.ToString());
        Assert.Equal(0, world.ZipDeploys(apps));
        Assert.All(apps, a =>
        {
            Assert.Equal(0, world.Host.CountRequests(AppServiceRoute.PutAppSettings, a.Name));
            Assert.False(a.Settings.ContainsKey(ProjectVersion));
            Assert.Null(a.DeployedPackageSha256);
        });
        var state = await world.ReadStoredStateAsync();
        Assert.Null(state.Current);
        Assert.Null(state.InFlight);
    }

    [Fact]
    public async Task A_failed_deployment_keeps_the_build_in_flight_and_the_next_run_retries_only_that_connector()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        await world.DeliverAsync(delivery, "1");
        var apps = await world.AddConnectorsAsync(4);
        var engine = world.CreateWorker().GetRequiredService<IRolloutEngine>();
        AssertSucceeded(await engine.UpdateAsync(), RolloutKind.Update, "1");
        await world.DeliverAsync(delivery, "2");
        var failing = apps[0];
        failing.Faults.FailDeployments = 1;

        var failed = await engine.UpdateAsync();

        Assert.False(failed.Succeeded);
        var failure = Assert.Single(failed.Connectors, c => c.Outcome == ConnectorOutcome.Failed);
        Assert.Equal(failing.Name, failure.Connector.Id);
        Assert.IsType<DeploymentFailedException>(failure.Error);
        Assert.Equal(3, failed.Count(ConnectorOutcome.Updated));
        Assert.Equal("1", failing.Settings[ProjectVersion]);
        var inFlight = await world.ReadStoredStateAsync();
        Assert.Equal("1", inFlight.Current);
        Assert.Equal("2", inFlight.InFlight);
        var othersDeploys = world.ZipDeploys(apps.Skip(1));

        var retried = await engine.UpdateAsync();

        AssertSucceeded(retried, RolloutKind.Update, "2");
        Assert.Equal(ConnectorOutcome.Updated, Assert.Single(retried.Connectors, c => c.Connector.Id == failing.Name).Outcome);
        Assert.Equal(3, retried.Count(ConnectorOutcome.AlreadyCurrent));
        Assert.Equal(othersDeploys, world.ZipDeploys(apps.Skip(1)));
        Assert.All(apps, a => Assert.Equal("2", a.Settings[ProjectVersion]));
        var done = await world.ReadStoredStateAsync();
        Assert.Equal("2", done.Current);
        Assert.Null(done.InFlight);
    }

    [Fact]
    public async Task A_new_connector_is_provisioned_with_the_current_build()
    {
        await using var world = new ProductionWorld(servers);
        var delivery = world.CreateDelivery();
        var build1 = await world.DeliverAsync(delivery, "1");
        var existing = await world.AddConnectorsAsync(2);
        var engine = world.CreateWorker().GetRequiredService<IRolloutEngine>();
        AssertSucceeded(await engine.UpdateAsync(), RolloutKind.Update, "1");
        var created = Assert.Single(await world.AddConnectorsAsync(1));

        var result = await engine.ProvisionAsync(new ConnectorTarget(created.Name, created.ResourceId));

        Assert.Equal(ConnectorOutcome.Updated, result.Outcome);
        Assert.Equal(VerificationOutcome.Verified, result.Verification);
        Assert.Equal("1", created.Settings[ProjectVersion]);
        Assert.Equal(ProductionWorld.FhirUrl(created.Name), created.Settings[ProductionWorld.FhirSetting]);
        Assert.Equal(build1.Sha256, created.DeployedPackageSha256);
        var fleet = await engine.VerifyAsync();
        Assert.True(fleet.AllVerified);
        Assert.Equal(3, fleet.Connectors.Count);
        Assert.All(existing, a => Assert.Equal(1, world.Host.CountRequests(AppServiceRoute.ZipDeploy, a.Name)));
    }

    private static void AssertSucceeded(RolloutReport report, RolloutKind kind, string target)
    {
        Assert.True(
            report.Succeeded,
            "The rollout did not succeed: " + string.Join("; ", report.Connectors.Select(c => $"{c.Connector.Id}: {c.Outcome} {c.Verification} {c.ErrorMessage}")));
        Assert.Equal(kind, report.Kind);
        Assert.Equal(target, report.Target.ToString());
    }
}
