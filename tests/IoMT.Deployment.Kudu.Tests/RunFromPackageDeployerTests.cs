using IoMT.Deployment.Loopback;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class RunFromPackageDeployerTests(AppServiceHostFixture fixture)
{
    private static readonly Uri BlobUrl = new("https://artifacts.blob.core.windows.net/iomtconnector/20240301.2.zip");

    private AppServiceHost Host => fixture.Host;

    private AppServiceApp NewApp() =>
        Host.AddApp(NewSubscription(), "rg", "rfp-" + Guid.NewGuid().ToString("N")[..12], settings: new Dictionary<string, string>
        {
            ["CUSTOMER_SETTING"] = "keep me",
            [ProjectVersionSetting.Name] = "20240101.1",
        });

    [Fact]
    public async Task One_settings_write_points_the_app_at_the_blob_and_syncs_triggers_without_pushing_bytes()
    {
        var app = NewApp();
        var deployer = RunFromPackageDeployer(Host);
        var package = Package("20240301.2", BlobUrl);

        await deployer.DeployAsync(Target(app), package);
        await deployer.SetProjectVersionAsync(Target(app), package.Build);

        var settings = app.Settings;
        Assert.Equal(BlobUrl.AbsoluteUri, settings[RunFromPackageConnectorDeployer.RunFromPackageSetting]);
        Assert.Equal("20240301.2", settings[ProjectVersionSetting.Name]);
        Assert.Equal("keep me", settings["CUSTOMER_SETTING"]);
        Assert.False(settings.ContainsKey(RunFromPackageConnectorDeployer.ManagedIdentitySetting));
        Assert.Equal(1, app.SettingsWriteCount);
        Assert.Equal(1, app.SyncTriggersCount);
        Assert.Equal(0, Host.CountRequests(AppServiceRoute.ZipDeploy, app.Name));
        Assert.Equal(0, Host.CountRequests(AppServiceRoute.GetSite, app.Name));
        Assert.Equal("20240301.2", await deployer.GetProjectVersionAsync(Target(app)));
        var sync = Host.RequestLog.Single(r => r.App == app.Name && r.Route == AppServiceRoute.SyncFunctionTriggers);
        var put = Host.RequestLog.Single(r => r.App == app.Name && r.Route == AppServiceRoute.PutAppSettings);
        Assert.True(sync.At >= put.At);
    }

    [Fact]
    public async Task A_managed_identity_option_writes_the_identity_setting_too()
    {
        var app = NewApp();
        const string identity = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/iomt-reader";
        var deployer = RunFromPackageDeployer(Host, o => o.ManagedIdentityResourceId = identity);

        await deployer.DeployAsync(Target(app), Package("20240301.2", BlobUrl));

        Assert.Equal(identity, app.Settings[RunFromPackageConnectorDeployer.ManagedIdentitySetting]);
        Assert.Equal(1, app.SettingsWriteCount);
    }

    [Fact]
    public async Task A_package_without_a_location_is_a_clear_error_and_writes_nothing()
    {
        var app = NewApp();
        var deployer = RunFromPackageDeployer(Host);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => deployer.DeployAsync(Target(app), Package("20240301.2")));

        Assert.Contains("ArtifactPackage.Location", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, app.SettingsWriteCount);
        Assert.DoesNotContain(Host.RequestLog, r => r.App == app.Name);
    }

    [Fact]
    public async Task A_deleted_app_gives_ConnectorNotFoundException()
    {
        var app = NewApp();
        Host.DeleteApp(app);

        await Assert.ThrowsAsync<ConnectorNotFoundException>(() => RunFromPackageDeployer(Host).DeployAsync(Target(app), Package("1", BlobUrl)));
    }
}
