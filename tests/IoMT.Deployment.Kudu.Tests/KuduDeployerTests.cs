using Azure;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging.Testing;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class KuduDeployerTests(AppServiceHostFixture fixture)
{
    private AppServiceHost Host => fixture.Host;

    private AppServiceApp NewApp(string? name = null, IReadOnlyDictionary<string, string>? settings = null) =>
        Host.AddApp(NewSubscription(), "rg-connectors", name ?? "fa-" + Guid.NewGuid().ToString("N")[..12], "functionapp,linux", settings: settings);

    [Fact]
    public async Task Fifty_apps_are_deployed_versioned_and_read_back_in_parallel_keeping_other_settings()
    {
        var subscription = NewSubscription();
        var apps = Enumerable.Range(0, 50)
            .Select(i => Host.AddApp(subscription, "rg-fleet", $"fleet-{i:D2}-{Guid.NewGuid():N}"[..24], settings: new Dictionary<string, string>
            {
                ["CUSTOMER_SETTING"] = $"value-{i}",
                ["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated",
                [ProjectVersionSetting.Name] = "20240101.1",
            }))
            .ToList();
        var package = Package("20240102.7");
        var deployer = KuduDeployer(Host);
        var readBack = new System.Collections.Concurrent.ConcurrentDictionary<string, string?>();

        await Parallel.ForEachAsync(apps, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (app, ct) =>
        {
            var target = Target(app);
            await deployer.DeployAsync(target, package, ct);
            await deployer.SetProjectVersionAsync(target, package.Build, ct);
            readBack[app.Name] = await deployer.GetProjectVersionAsync(target, ct);
        });

        var expectedFiles = PackageFiles("20240102.7");
        for (var i = 0; i < apps.Count; i++)
        {
            var app = apps[i];
            Assert.Equal("20240102.7", readBack[app.Name]);
            Assert.Equal(package.Sha256, app.DeployedPackageSha256);
            Assert.Equal(expectedFiles.Keys.Order(), app.DeployedFiles.Keys.Order());
            foreach (var (path, content) in expectedFiles)
            {
                Assert.Equal(content, app.DeployedFiles[path].Content!.Value.ToArray());
            }

            var settings = app.Settings;
            Assert.Equal($"value-{i}", settings["CUSTOMER_SETTING"]);
            Assert.Equal("dotnet-isolated", settings["FUNCTIONS_WORKER_RUNTIME"]);
            Assert.Equal("20240102.7", settings[ProjectVersionSetting.Name]);
            Assert.Equal(3, settings.Count);
            Assert.Equal(1, app.DeploymentCount);
            Assert.Equal(1, app.SettingsWriteCount);
            Assert.Equal(0, app.InterruptedDeployments);
        }
    }

    [Fact]
    public async Task The_scm_host_is_read_from_the_site_once_and_scm_calls_use_the_scm_scope()
    {
        var app = NewApp();
        var deployer = KuduDeployer(Host);
        await deployer.DeployAsync(Target(app), Package("3.1"));
        await deployer.DeployAsync(Target(app), Package("3.2"));
        await deployer.SetProjectVersionAsync(Target(app), BuildNumber.Parse("3.2"));

        var requests = Host.RequestLog.Where(r => r.App == app.Name).ToList();
        Assert.Equal(1, requests.Count(r => r.Route == AppServiceRoute.GetSite));
        Assert.Equal(2, requests.Count(r => r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 202));
        var scm = requests.Where(r => r.Route is AppServiceRoute.ZipDeploy or AppServiceRoute.DeploymentStatus).ToList();
        Assert.NotEmpty(scm);
        Assert.All(scm, r => Assert.Equal(app.ScmHostName, r.Host, ignoreCase: true));
        Assert.All(scm, r => Assert.Equal("https://management.core.windows.net", r.TokenAudience));
        var arm = requests.Where(r => r.Route is AppServiceRoute.GetSite or AppServiceRoute.ListAppSettings or AppServiceRoute.PutAppSettings).ToList();
        Assert.Equal(3, arm.Count);
        Assert.All(arm, r => Assert.Equal("https://management.azure.com", r.TokenAudience));
        Assert.All(requests, r => Assert.True(r.HadBearerToken));
        Assert.Equal(Package("3.2").Sha256, app.DeployedPackageSha256);
    }

    [Fact]
    public async Task A_token_for_the_arm_scope_is_refused_by_the_scm_site()
    {
        var app = NewApp();
        var deployer = KuduDeployer(Host, o => o.ScmScope = KuduDeployerOptions.DefaultArmScope);

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("1")));

        Assert.Contains("401", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.ZipDeployCount);
    }

    [Fact]
    public async Task Set_project_version_writes_nothing_when_the_value_is_already_equal()
    {
        var app = NewApp(settings: new Dictionary<string, string> { [ProjectVersionSetting.Name] = "42", ["OTHER"] = "x" });
        var deployer = KuduDeployer(Host);

        await deployer.SetProjectVersionAsync(Target(app), BuildNumber.Parse("42"));

        Assert.Equal(0, app.SettingsWriteCount);
        Assert.Equal(1, Host.CountRequests(AppServiceRoute.ListAppSettings, app.Name));
        Assert.Equal(0, Host.CountRequests(AppServiceRoute.PutAppSettings, app.Name));
        await deployer.SetProjectVersionAsync(Target(app), BuildNumber.Parse("43"));
        Assert.Equal(1, app.SettingsWriteCount);
        Assert.Equal("43", app.Settings[ProjectVersionSetting.Name]);
        Assert.Equal("x", app.Settings["OTHER"]);
    }

    [Fact]
    public async Task Get_project_version_is_null_when_the_setting_is_absent()
    {
        var app = NewApp(settings: new Dictionary<string, string> { ["OTHER"] = "x" });

        Assert.Null(await KuduDeployer(Host).GetProjectVersionAsync(Target(app)));
    }

    [Fact]
    public async Task A_deleted_app_gives_ConnectorNotFoundException_for_every_operation()
    {
        var app = NewApp();
        Host.DeleteApp(app);
        var deployer = KuduDeployer(Host);

        var deploy = await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.DeployAsync(Target(app), Package("1")));
        Assert.Equal(app.Name, deploy.ConnectorId);
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.SetProjectVersionAsync(Target(app), BuildNumber.Parse("1")));
        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.GetProjectVersionAsync(Target(app)));
    }

    [Fact]
    public async Task An_app_deleted_mid_rollout_gives_ConnectorNotFoundException_and_the_others_are_deployed()
    {
        var apps = Enumerable.Range(0, 6).Select(_ => NewApp()).ToList();
        apps[3].Faults.DeleteDuringNextDeployment = true;
        apps[3].Faults.DeploymentDuration = TimeSpan.FromMilliseconds(100);
        var deployer = KuduDeployer(Host);
        var package = Package("7.0");

        var outcomes = await Task.WhenAll(apps.Select(async app =>
        {
            try
            {
                await deployer.DeployAsync(Target(app), package);
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }));

        var notFound = Assert.IsType<ConnectorNotFoundException>(outcomes[3]);
        Assert.Equal(apps[3].Name, notFound.ConnectorId);
        Assert.Equal(1, apps[3].ZipDeployCount);
        Assert.True(apps[3].IsDeleted);
        Assert.All(outcomes.Where((_, i) => i != 3), Assert.Null);
        Assert.All(apps.Where((_, i) => i != 3), app => Assert.Equal(package.Sha256, app.DeployedPackageSha256));
    }

    [Fact]
    public async Task Conflicts_are_retried_with_backoff_until_the_deployment_is_accepted()
    {
        var app = NewApp();
        app.Faults.Conflicts = 3;
        var logger = new FakeLogger<KuduConnectorDeployer>();
        var deployer = KuduDeployer(Host, o => o.ConflictRetryLimit = 5, logger);

        await deployer.DeployAsync(Target(app), Package("9"));

        Assert.Equal(3, Host.RequestLog.Count(r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 409));
        Assert.Equal(1, app.DeploymentCount);
        Assert.Equal(3, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 4002));
    }

    [Fact]
    public async Task Conflicts_beyond_the_limit_fail_the_deployment()
    {
        var app = NewApp();
        app.Faults.Conflicts = 10;
        var deployer = KuduDeployer(Host, o => o.ConflictRetryLimit = 2);

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("9")));

        Assert.Contains("ConflictRetryLimit", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, Host.CountRequests(AppServiceRoute.ZipDeploy, app.Name));
        Assert.Equal(0, app.ZipDeployCount);
    }

    [Fact]
    public async Task A_409_from_a_real_running_deployment_waits_for_it()
    {
        var app = NewApp();
        app.Faults.HoldDeployments();
        var first = KuduDeployer(Host);
        var clock = new SignallingTimeProvider();
        var conflictDelay = TimeSpan.FromSeconds(7);
        var second = KuduDeployer(Host, o => o.ConflictRetryDelay = conflictDelay, time: clock);
        using var cancel = new CancellationTokenSource(HangGuard);

        var running = first.DeployAsync(Target(app), Package("1"));
        await Host.WaitForRequestAsync(r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 202, "the first deployment runs");
        var waiting = second.DeployAsync(Target(app), Package("2"));

        // The first deployment is held: the second deployer is refused and waits on its clock (ConflictRetryDelay, then
        // twice that), twice, while it runs.
        for (var conflict = 1; conflict <= 2; conflict++)
        {
            var backoff = conflictDelay * (1 << (conflict - 1));
            while (await clock.NextTimerAsync(cancel.Token) != backoff)
            {
            }

            await Host.WaitForHostAsync(() => Conflicts() >= conflict, $"conflict {conflict} is answered");
            Assert.Equal(conflict, Conflicts());
            Assert.False(waiting.IsCompleted, "the second deployment waits while the first runs");
            if (conflict == 2)
            {
                app.Faults.ReleaseDeployments();
                await running;
            }

            clock.Advance(backoff);
        }

        await clock.AdvanceOnEveryWaitAsync(waiting, TimeSpan.FromMilliseconds(5));
        await waiting;

        Assert.Equal(4, Host.CountRequests(AppServiceRoute.ZipDeploy, app.Name));
        Assert.Equal(2, app.DeploymentCount);
        Assert.Equal(Package("2").Sha256, app.DeployedPackageSha256);

        int Conflicts() => Host.RequestLog.Count(r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 409);
    }

    [Fact]
    public async Task A_failed_deployment_status_gives_DeploymentFailedException()
    {
        var app = NewApp();
        app.Faults.FailDeployments = 1;
        var deployer = KuduDeployer(Host);

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("5")));

        Assert.Equal(app.Name, ex.ConnectorId);
        Assert.Contains("status 3 (Failed)", ex.Message, StringComparison.Ordinal);
        Assert.Null(app.DeployedPackageSha256);
    }

    [Theory]
    [InlineData(42, "unknown")]
    [InlineData(7, "unknown")]
    [InlineData(-1, "Cancelled")]
    [InlineData(5, "Conflict")]
    [InlineData(6, "PartialSuccess")]
    public async Task A_status_other_than_success_or_running_is_a_failure(int status, string described)
    {
        var app = NewApp();
        app.Faults.FinalStatus = status;
        var deployer = KuduDeployer(Host);

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("5")));

        Assert.Contains($"status {status} ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(described, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_while_polling_stops_the_deployment_wait()
    {
        var app = NewApp();
        app.Faults.DeploymentDuration = TimeSpan.FromMinutes(5);
        var deployer = KuduDeployer(Host);
        using var cts = new CancellationTokenSource();

        var deploy = deployer.DeployAsync(Target(app), Package("8"), cts.Token);
        await Host.WaitForRequestAsync(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus, "the deployment is polled");
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploy);

        // The app's lock was released: a settings read-merge-write goes through.
        await deployer.SetProjectVersionAsync(Target(app), BuildNumber.Parse("8")).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_deployment_that_outlives_the_deadline_fails()
    {
        var app = NewApp();
        app.Faults.DeploymentDuration = TimeSpan.FromMinutes(5);
        var time = new SignallingTimeProvider();
        var poll = TimeSpan.FromMilliseconds(50);
        var deployer = KuduDeployer(Host, o => (o.PollInterval, o.DeploymentTimeout) = (poll, TimeSpan.FromMilliseconds(200)), time: time);

        // Each poll delay is released by one step of fake time as soon as it is started: no real deadline runs.
        var deploy = deployer.DeployAsync(Target(app), Package("8"));
        var waits = await time.AdvanceOnEveryWaitAsync(deploy, poll);

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deploy);
        Assert.Contains("DeploymentTimeout", ex.Message, StringComparison.Ordinal);

        // Polled at 50, 100, 150 and 200 ms from acceptance; the wait ending at 250 ms passed the deadline.
        Assert.Equal(4, Host.CountRequests(AppServiceRoute.DeploymentStatus, app.Name));
        Assert.Equal(5, waits.Count);
        Assert.True(app.IsDeploying, "the host's deployment still runs: the deadline came from the fake clock");
    }

    [Fact]
    public async Task An_upload_that_outlives_UploadTimeout_is_a_failed_deployment_not_a_cancellation()
    {
        var app = NewApp();
        var deployer = KuduDeployer(Host, o => (o.UploadTimeout, o.MaxRetries) = (TimeSpan.FromMilliseconds(100), 1));

        // Once the site is read (before its answer reaches the client), the app answers nothing for far longer than the
        // upload may take, so both upload tries can only end by UploadTimeout; when the host has recorded the second one
        // (aborted), the latency goes, so that ARM's check of the site answers at once. UploadTimeout is Azure.Core's
        // NetworkTimeout, which runs on the real clock (the pipeline takes no TimeProvider): only its expiry is relied on.
        var uploads = 0;
        using var stall = Host.OnRequest(r =>
        {
            if (r.App == app.Name && r.Route == AppServiceRoute.GetSite && Volatile.Read(ref uploads) == 0)
            {
                app.Faults.Latency = TimeSpan.FromSeconds(10);
            }
            else if (r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && Interlocked.Increment(ref uploads) == 2)
            {
                app.Faults.Latency = TimeSpan.Zero;
            }
        });

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(app), Package("10")).WaitAsync(HangGuard));

        Assert.Contains("UploadTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.ZipDeployCount);
        Assert.Equal(2, Host.CountRequests(AppServiceRoute.ZipDeploy, app.Name));
    }

    [Fact]
    public async Task The_default_poll_interval_and_deadline_run_on_the_injected_clock()
    {
        var app = NewApp();
        app.Faults.DeploymentDuration = TimeSpan.FromMinutes(5);
        var time = new SignallingTimeProvider();
        var defaults = new KuduDeployerOptions();
        var deployer = KuduDeployer(Host, o => (o.PollInterval, o.DeploymentTimeout) = (defaults.PollInterval, defaults.DeploymentTimeout), time: time);

        // Each poll delay, as soon as it is started on the fake clock, is released by a minute of fake time; no real minute passes.
        var deploy = deployer.DeployAsync(Target(app), Package("15"));
        var waits = await time.AdvanceOnEveryWaitAsync(deploy, TimeSpan.FromMinutes(1));

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deploy);
        Assert.Contains("DeploymentTimeout", ex.Message, StringComparison.Ordinal);
        Assert.All(waits, wait => Assert.Equal(TimeSpan.FromSeconds(2), wait));

        // Polled after 1 … 15 fake minutes; the wait ending at 16 minutes passed the 15-minute deadline.
        Assert.Equal(16, waits.Count);
        Assert.Equal(15, Host.CountRequests(AppServiceRoute.DeploymentStatus, app.Name));
        Assert.True(app.IsDeploying, "the host's deployment still runs: the deadline came from the fake clock");
    }

    [Fact]
    public async Task Server_errors_and_non_json_answers_while_the_scm_site_restarts_are_polled_through()
    {
        var app = NewApp();
        app.Faults.DeploymentDuration = TimeSpan.FromMilliseconds(50);
        app.Faults.InjectServerErrors(AppServiceRoute.DeploymentStatus, 4);
        app.Faults.NonJsonStatusAnswers = 3;
        var deployer = KuduDeployer(Host, o => o.MaxRetries = 1);

        await deployer.DeployAsync(Target(app), Package("11"));

        var polls = Host.RequestLog.Where(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus).ToList();
        Assert.Equal(4, polls.Count(r => r.StatusCode == 503));
        Assert.True(polls.Count(r => r.StatusCode == 200) >= 4);
        Assert.Equal(1, app.DeploymentCount);
    }

    [Fact]
    public async Task A_server_error_on_the_upload_is_retried_with_the_whole_package()
    {
        var app = NewApp();
        app.Faults.InjectServerErrors(AppServiceRoute.ZipDeploy, 2);
        var package = Package("12", payloadBytes: 256 * 1024);
        var deployer = KuduDeployer(Host);

        await deployer.DeployAsync(Target(app), package);

        var uploads = Host.RequestLog.Where(r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy).ToList();
        Assert.Equal([503, 503, 202], uploads.Select(r => r.StatusCode));
        Assert.All(uploads, r => Assert.Equal(package.Length, r.RequestBytes));
        Assert.Equal(package.Sha256, app.DeployedPackageSha256);
    }

    [Fact]
    public async Task A_settings_write_by_another_writer_during_a_deployment_fails_that_deployment()
    {
        var app = NewApp();
        app.Faults.HoldDeployments();
        var deployer = KuduDeployer(Host);
        var otherProcess = KuduDeployer(Host);

        var deploy = deployer.DeployAsync(Target(app), Package("13"));
        await Host.WaitForRequestAsync(r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 202, "the deployment runs");
        await otherProcess.SetProjectVersionAsync(Target(app), BuildNumber.Parse("13"));
        app.Faults.ReleaseDeployments();

        var ex = await Assert.ThrowsAsync<DeploymentFailedException>(() => deploy);
        Assert.Contains("settings changed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, app.InterruptedDeployments);
    }

    [Fact]
    public async Task The_deployer_never_writes_settings_while_its_own_deployment_runs()
    {
        var app = NewApp();
        app.Faults.HoldDeployments();
        var deployer = KuduDeployer(Host);

        var deploy = deployer.DeployAsync(Target(app), Package("14"));
        await Host.WaitForRequestAsync(r => r.App == app.Name && r.Route == AppServiceRoute.ZipDeploy && r.StatusCode == 202, "the deployment runs");
        var set = deployer.SetProjectVersionAsync(Target(app), BuildNumber.Parse("14"));

        // The deployment is held and the deployer keeps polling it. A settings write that did not wait for it would
        // have been sent by now: it needs two requests and no clock, against three polls with a delay before each.
        var polled = Polls();
        await Host.WaitForHostAsync(() => Polls() >= polled + 3, "the deployer polls the held deployment three more times");
        Assert.False(set.IsCompleted, "the settings write waits for the deployment");
        Assert.DoesNotContain(Host.RequestLog, r => r.App == app.Name && r.Route == AppServiceRoute.PutAppSettings);
        app.Faults.ReleaseDeployments();
        await Task.WhenAll(deploy, set);

        Assert.Equal(0, app.InterruptedDeployments);
        var log = Host.RequestLog.Where(r => r.App == app.Name).ToList();
        var success = log.Last(r => r.Route == AppServiceRoute.DeploymentStatus && r.StatusCode == 200);
        var put = log.Single(r => r.Route == AppServiceRoute.PutAppSettings);
        Assert.True(put.At >= success.At, "the settings PUT came after the deployment reported Success");
        Assert.Equal("14", app.Settings[ProjectVersionSetting.Name]);

        int Polls() => Host.RequestLog.Count(r => r.App == app.Name && r.Route == AppServiceRoute.DeploymentStatus);
    }

    [Fact]
    public async Task A_connector_without_a_site_resource_id_is_refused()
    {
        var deployer = KuduDeployer(Host);

        var missing = await Assert.ThrowsAsync<ArgumentException>(() => deployer.DeployAsync(new ConnectorTarget("c1"), Package("1")));
        Assert.Contains("ResourceId", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => deployer.GetProjectVersionAsync(
            new ConnectorTarget("c1", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa")));
    }
}
