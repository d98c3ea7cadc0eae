using IoMT.Deployment.Loopback;
using Xunit.Abstractions;

namespace IoMT.Deployment.ProcessTests;

/// <summary>
/// <c>iomt-deploy --provider azure</c> as a real process against Azurite, cosmosdb-server and the loopback App Service
/// host, signed in with the App Service managed identity (<c>IDENTITY_ENDPOINT</c>/<c>IDENTITY_HEADER</c>) through
/// <c>DefaultAzureCredential</c>, trusting the test certificates through <c>SSL_CERT_FILE</c>.
/// </summary>
[Collection(ProcessServersCollection.Name)]
public sealed class CliAzureProcessTests : IDisposable
{
    private const string ArmAudience = "https://management.azure.com";
    private const string ScmAudience = "https://management.core.windows.net";

    private readonly AzureProcessServers _servers;
    private readonly string _folder = Directory.CreateTempSubdirectory("iomt-cli-process-").FullName;
    private readonly string _database = "cli-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _container = "cli-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _subscription = Guid.NewGuid().ToString();

    private readonly ITestOutputHelper _output;

    public CliAzureProcessTests(AzureProcessServers servers, ITestOutputHelper output)
    {
        _servers = servers;
        _output = output;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string MakeFunction(int build)
    {
        var folder = Path.Combine(_folder, "build" + build);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "host.json"), "{\"version\":\"2.0\"}");
        File.WriteAllText(Path.Combine(folder, "code.txt"), "connector code of build " + build);
        return folder;
    }

    private Dictionary<string, string?> Environment()
    {
        var environment = _servers.ProcessEnvironment();
        environment["IOMT_DEPLOY__PROVIDER"] = "azure";
        environment["IOMT_DEPLOY__AZURE__BLOBS__CONNECTIONSTRING"] = _servers.StorageConnectionString;
        environment["IOMT_DEPLOY__AZURE__BLOBS__CONTAINERNAME"] = _container;
        environment["IOMT_DEPLOY__AZURE__BLOBS__CREATEIFMISSING"] = "true";
        environment["IOMT_DEPLOY__AZURE__BLOBS__LOCK__CONTAINERNAME"] = _container + "-lock";
        environment["IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTENDPOINT"] = _servers.CosmosEndpoint.AbsoluteUri;
        environment["IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTKEY"] = AzureProcessServers.CosmosAccountKey;
        environment["IOMT_DEPLOY__AZURE__COSMOS__DATABASENAME"] = _database;
        environment["IOMT_DEPLOY__AZURE__COSMOS__CONNECTIONMODE"] = "gateway";
        environment["IOMT_DEPLOY__AZURE__COSMOS__VERSIONSTORE__CREATEIFMISSING"] = "true";
        environment["IOMT_DEPLOY__AZURE__ARM__ARMENDPOINT"] = _servers.Host.ArmEndpoint.AbsoluteUri;
        environment["IOMT_DEPLOY__AZURE__ARM__POLLINTERVAL"] = "00:00:00.050";
        return environment;
    }

    [Fact]
    public async Task Deliver_update_status_rollback_verify_run_as_processes_with_managed_identity_tokens_of_the_right_audience_and_print_no_secret()
    {
        var apps = await _servers.AddConnectorsAsync(_database, _subscription, 3);
        var names = apps.Select(a => a.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var environment = Environment();
        var runs = new List<ProcessRun>();
        ProcessRun Run(params string[] args)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var run = Built.Run(Built.Cli, _folder, environment, args);
            _output.WriteLine($"iomt-deploy {string.Join(' ', args)}: exit {run.ExitCode} in {started.Elapsed.TotalSeconds:F1} s");
            runs.Add(run);
            return run;
        }

        Run("deliver", MakeFunction(1), "--build", "1").Exits(0);
        Run("update", "--output", "json").Exits(0);
        Run("deliver", MakeFunction(2), "--build", "2").Exits(0);
        Run("update", "--output", "json").Exits(0);
        Assert.All(apps, a => Assert.Equal("2", a.Settings[ProjectVersionSetting.Name]));

        Run("rollback", "--reason", "bad build in the process test", "--output", "json").Exits(0);
        Assert.All(apps, a => Assert.Equal("1", a.Settings[ProjectVersionSetting.Name]));
        Run("verify", "--output", "json").Exits(0);
        Assert.Equal("1", Run("status", "--output", "json").Exits(0).Json().GetProperty("current").GetString());

        // Every ARM and scm request of this test carried a managed-identity token of the audience its route takes.
        var requests = _servers.Host.RequestLog.Where(r => r.App is not null && names.Contains(r.App)).ToList();
        Assert.Contains(requests, r => r.Route == AppServiceRoute.ZipDeploy);
        Assert.Contains(requests, r => r.Route == AppServiceRoute.PutAppSettings);
        Assert.All(requests, r =>
        {
            Assert.True(r.HadBearerToken, $"{r.Method} {r.Path} had no bearer token");
            var expected = r.Route is AppServiceRoute.ZipDeploy or AppServiceRoute.DeploymentStatus ? ScmAudience : ArmAudience;
            Assert.Equal(expected, r.TokenAudience?.TrimEnd('/'));
            Assert.NotEqual(401, r.StatusCode);
        });
        var issued = _servers.Host.IssuedTokens;
        Assert.Contains(issued, t => t.Audience.TrimEnd('/') == ArmAudience);
        Assert.Contains(issued, t => t.Audience.TrimEnd('/') == ScmAudience);
        Assert.All(issued, t => Assert.Contains(t.Audience.TrimEnd('/'), new[] { ArmAudience, ScmAudience }));

        // No token, identity header or key in any output.
        var secrets = issued.Select(t => t.Token)
            .Append(_servers.Host.IdentityHeader)
            .Append(AzureProcessServers.AzuriteAccountKey)
            .Append(AzureProcessServers.CosmosAccountKey)
            .ToList();
        foreach (var run in runs)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, run.Stdout + run.Stderr, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Update_dry_run_reports_connectors_and_arm_requests_per_subscription_and_changes_nothing()
    {
        var other = Guid.NewGuid().ToString();
        var apps = (await _servers.AddConnectorsAsync(_database, _subscription, 3)).Concat(await _servers.AddConnectorsAsync(_database, other, 2)).ToList();
        var environment = Environment();
        Built.Run(Built.Cli, _folder, environment, "deliver", MakeFunction(1), "--build", "1").Exits(0);
        var before = _servers.Host.RequestLog.Count(r => r.App is not null && r.Route is AppServiceRoute.ZipDeploy or AppServiceRoute.PutAppSettings);

        var run = Built.Run(Built.Cli, _folder, environment, "update", "--dry-run", "--output", "json").Exits(0);
        _output.WriteLine(run.Stdout);

        // The azure provider composes the throttle by default; with the Kudu deployer a connector costs 4 ARM writes and 1 read.
        var json = run.Json();
        Assert.True(json.GetProperty("dryRun").GetBoolean());
        var subscriptions = json.GetProperty("subscriptions").EnumerateArray()
            .ToDictionary(s => s.GetProperty("subscription").GetString()!, s => (s.GetProperty("connectors").GetInt32(), s.GetProperty("armWrites").GetInt64(), s.GetProperty("armReads").GetInt64()));
        Assert.Equal((3, 12L, 3L), subscriptions[_subscription]);
        Assert.Equal((2, 8L, 2L), subscriptions[other]);
        Assert.Equal(0, json.GetProperty("limitsBoundMs").GetInt64());

        // Nothing changed: no deployment or settings write reached any app, and no build became current.
        Assert.Equal(before, _servers.Host.RequestLog.Count(r => r.App is not null && r.Route is AppServiceRoute.ZipDeploy or AppServiceRoute.PutAppSettings));
        Assert.All(apps, a => Assert.Equal(0, a.ZipDeployCount));
        Assert.All(apps, a => Assert.False(a.Settings.ContainsKey(ProjectVersionSetting.Name)));
        var status = Built.Run(Built.Cli, _folder, environment, "status", "--output", "json").Exits(0).Json();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, status.GetProperty("current").ValueKind);
    }

    [Fact]
    public async Task A_wrong_identity_header_fails_sign_in_touches_no_app_and_prints_no_header()
    {
        var apps = await _servers.AddConnectorsAsync(_database, _subscription, 1);
        Built.Run(Built.Cli, _folder, Environment(), "deliver", MakeFunction(1), "--build", "1").Exits(0);
        var environment = Environment();
        environment["IDENTITY_HEADER"] = "not-the-host-secret-0123456789";

        var run = Built.Run(Built.Cli, _folder, environment, "update", "--output", "json");
        _output.WriteLine($"exit {run.ExitCode}\n{run.Stderr}");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("ManagedIdentityCredential", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, _servers.Host.CountRequests(AppServiceRoute.ZipDeploy, apps[0].Name));
        Assert.False(apps[0].Settings.ContainsKey(ProjectVersionSetting.Name));
        Assert.DoesNotContain("not-the-host-secret-0123456789", run.Stdout + run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(_servers.Host.IdentityHeader, run.Stdout + run.Stderr, StringComparison.Ordinal);
    }
}
