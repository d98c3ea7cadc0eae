using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging.Testing;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>
/// Deleted or not is ARM's answer, never the scm site's alone; and the deployment polled is the one started.
/// </summary>
[Collection(AppServiceHostCollection.Name)]
public sealed class KuduDeletionAndMatchingTests(AppServiceHostFixture fixture)
{
    private AppServiceHost Host => fixture.Host;

    private AppServiceApp NewApp() =>
        Host.AddApp(NewSubscription(), "rg-connectors", "fa-" + Guid.NewGuid().ToString("N")[..12], "functionapp,linux");

    private int SiteReads(AppServiceApp app) => Host.CountRequests(AppServiceRoute.GetSite, app.Name);

    [Fact]
    public async Task A_live_app_answering_404_on_deployments_latest_is_a_failed_deployment_not_a_deleted_connector()
    {
        var app = NewApp();
        app.Faults.MissingDeploymentAnswers = int.MaxValue;
        var logger = new FakeLogger<KuduConnectorDeployer>();
        var deployer = KuduDeployer(Host, o => o.MissingDeploymentLimit = 2, logger);

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("21")));

        Assert.Equal(app.Name, ex.ConnectorId);
        Assert.Contains("no record of the deployment", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ARM still has the Function app", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MissingDeploymentLimit is 2", ex.Message, StringComparison.Ordinal);
        Assert.Equal(DeploymentFailureKind.Unknown, ex.Kind);
        Assert.False(app.IsDeleted);
        Assert.Equal(3, Host.RequestLog.Count(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus && r.StatusCode == 404));
        Assert.Equal(1 + 3, SiteReads(app)); // the scm host, then one confirmation per 404
        Assert.Equal(2, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 4007));
    }

    [Fact]
    public async Task A_deployment_record_that_shows_late_is_polled_through()
    {
        var app = NewApp();
        app.Faults.MissingDeploymentAnswers = 2;
        var deployer = KuduDeployer(Host);

        await deployer.DeployAsync(Target(app), Package("22"));

        Assert.Equal(Package("22").Sha256, app.DeployedPackageSha256);
        Assert.Equal(2, Host.RequestLog.Count(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus && r.StatusCode == 404));
    }

    [Fact]
    public async Task An_app_deleted_in_arm_while_its_deployment_is_polled_is_a_deleted_connector_confirmed_through_arm()
    {
        var app = NewApp();
        app.Faults.DeploymentDuration = TimeSpan.FromMinutes(5);
        var deployer = KuduDeployer(Host);

        var deploy = deployer.DeployAsync(Target(app), Package("23"));
        await Host.WaitForRequestAsync(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus, "the deployment is polled");
        Host.DeleteApp(app);

        var ex = await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deploy);
        Assert.Equal(app.Name, ex.ConnectorId);
        Assert.Contains("ARM answers 404", ex.Message, StringComparison.Ordinal);
        var reads = Host.RequestLog.Where(r => r.App == app.Name && r.Route == AppServiceRoute.GetSite).ToList();
        Assert.Equal([200, 404], reads.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task An_unreachable_scm_host_of_an_app_arm_no_longer_has_is_a_deleted_connector()
    {
        var app = NewApp();
        var deployer = KuduDeployer(Host, o => o.MaxRetries = 1);
        await deployer.DeployAsync(Target(app), Package("24.1")); // the scm host is cached from here on
        app.Faults.ScmUnreachable = true;
        Host.DeleteApp(app);

        var ex = await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.DeployAsync(Target(app), Package("24.2")));

        Assert.Equal(app.Name, ex.ConnectorId);
        Assert.Contains("gave no answer", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ARM answers 404", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, app.ZipDeployCount);
    }

    [Fact]
    public async Task A_scm_host_that_stops_answering_mid_poll_of_an_app_arm_no_longer_has_is_a_deleted_connector()
    {
        var app = NewApp();
        app.Faults.DeploymentDuration = TimeSpan.FromMinutes(5);
        var deployer = KuduDeployer(Host, o => o.MaxRetries = 1);

        var deploy = deployer.DeployAsync(Target(app), Package("25"));
        await Host.WaitForRequestAsync(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus, "the deployment is polled");
        app.Faults.ScmUnreachable = true;
        Host.DeleteApp(app);

        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deploy);
    }

    [Fact]
    public async Task An_unreachable_scm_host_of_an_app_arm_still_has_is_a_failed_deployment()
    {
        var app = NewApp();
        var deployer = KuduDeployer(Host, o => o.MaxRetries = 1);
        await deployer.DeployAsync(Target(app), Package("26.1"));
        app.Faults.ScmUnreachable = true;

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("26.2")));

        Assert.Contains("gave no answer", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ARM still has the Function app", ex.Message, StringComparison.Ordinal);
        Assert.Equal(DeploymentFailureKind.Transient, ex.Kind);
        Assert.Equal(Package("26.1").Sha256, app.DeployedPackageSha256);
        Assert.Contains(Host.RequestLog, r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 0);

        // The scm host is read from ARM again: once it answers, the next deployment goes through.
        app.Faults.ScmUnreachable = false;
        await deployer.DeployAsync(Target(app), Package("26.2"));
        Assert.Equal(Package("26.2").Sha256, app.DeployedPackageSha256);
    }

    [Fact]
    public async Task A_latest_that_names_another_deployment_is_not_taken_as_the_outcome_of_ours()
    {
        var app = NewApp();
        var logger = new FakeLogger<KuduConnectorDeployer>();
        var deployer = KuduDeployer(Host, logger: logger);
        await deployer.DeployAsync(Target(app), Package("27.1")); // a previous deployment that succeeded
        app.Faults.PreviousDeploymentAnswers = 5;
        app.Faults.FailDeployments = 1;
        app.Faults.DeploymentDuration = TimeSpan.FromMilliseconds(100);
        Host.ClearRequestLog();

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("27.2")));

        var ours = app.Deployments[^1];
        Assert.Contains($"deployment {ours.Id} ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("status 3 (Failed)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(DeploymentFailureKind.BuildAttributable, ex.Kind);
        Assert.Contains(Host.RequestLog, r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.Path.Contains("trackDeploymentId=true", StringComparison.Ordinal));
        Assert.Equal(5, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 4006));
        Assert.Equal(Package("27.1").Sha256, app.DeployedPackageSha256);
    }

    [Fact]
    public async Task A_latest_that_never_names_our_deployment_fails_at_the_deadline_naming_both()
    {
        var app = NewApp();
        var deployer = KuduDeployer(Host, o => o.DeploymentTimeout = TimeSpan.FromMilliseconds(300));
        await deployer.DeployAsync(Target(app), Package("28.1"));
        var previous = app.Deployments[^1];
        app.Faults.PreviousDeploymentAnswers = int.MaxValue;

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("28.2")));

        Assert.Contains("DeploymentTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"named deployment {previous.Id}, not {app.Deployments[^1].Id}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_location_that_names_the_deployment_is_polled_and_matched()
    {
        var app = NewApp();
        app.Faults.LocationNamesDeployment = true;
        var deployer = KuduDeployer(Host);

        await deployer.DeployAsync(Target(app), Package("29"));

        var id = app.Deployments[^1].Id;
        var polls = Host.RequestLog.Where(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus).ToList();
        Assert.NotEmpty(polls);
        Assert.All(polls, r => Assert.StartsWith($"/api/deployments/{id}", r.Path, StringComparison.Ordinal));
        Assert.Equal(Package("29").Sha256, app.DeployedPackageSha256);
    }

    [Fact]
    public async Task A_failed_deployment_message_ends_with_one_period_when_kudus_status_text_has_one()
    {
        var app = NewApp();
        app.Faults.FailDeployments = 1;

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => KuduDeployer(Host).DeployAsync(Target(app), Package("30")));

        Assert.EndsWith("(injected by the loopback host).", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("..", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_retries_is_a_throttled_failure_and_a_conflict_storm_a_transient_one()
    {
        var throttled = NewApp();
        throttled.Faults.TooManyRequests = 10;
        var conflicted = NewApp();
        conflicted.Faults.Conflicts = 10;
        var deployer = KuduDeployer(Host, o => (o.MaxRetries, o.ConflictRetryLimit) = (1, 1));

        var slow = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(throttled), Package("31")));
        var busy = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(conflicted), Package("31")));

        Assert.Equal(DeploymentFailureKind.Throttled, slow.Kind);
        Assert.True(slow.IsTransient);
        Assert.Equal(DeploymentFailureKind.Transient, busy.Kind);
    }

    [Theory]
    [InlineData("Deployment failed", "Deployment failed.")]
    [InlineData("Deployment failed.", "Deployment failed.")]
    [InlineData("Is it gone?", "Is it gone?")]
    [InlineData("no response (HttpRequestException)  ", "no response (HttpRequestException).")]
    [InlineData("", "")]
    public void Sentence_end_adds_a_period_only_when_none_closes_the_text(string text, string expected) =>
        Assert.Equal(expected, Sentence.End(text));
}
