using System.IO.Compression;
using Azure.Core;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu.Tests;

/// <summary>One loopback App Service host for the test assembly; each test adds its own apps in its own subscription.</summary>
public sealed class AppServiceHostFixture : IAsyncLifetime
{
    private AppServiceHost? _host;

    public AppServiceHost Host => _host ?? throw new InvalidOperationException("The host is not started.");

    public async Task InitializeAsync() => _host = await AppServiceHost.StartAsync(new AppServiceHostOptions { RetainFileContent = true });

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppServiceHostCollection : ICollectionFixture<AppServiceHostFixture>
{
    public const string Name = "App Service host";
}

/// <summary>Apps, packages and adapters wired to a host, with test-sized intervals.</summary>
internal static class TestWorld
{
    public static string NewSubscription() => Guid.NewGuid().ToString();

    public static void Configure(AppServiceOptions options, AppServiceHost host)
    {
        options.ArmEndpoint = host.ArmEndpoint;
        options.Transport = host.CreateTransport();
        options.RetryDelay = TimeSpan.FromMilliseconds(5);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
        if (options is KuduDeployerOptions kudu)
        {
            kudu.PollInterval = TimeSpan.FromMilliseconds(5);
            kudu.ConflictRetryDelay = TimeSpan.FromMilliseconds(5);
            kudu.DeploymentTimeout = TimeSpan.FromSeconds(60);
        }
    }

    public static KuduConnectorDeployer KuduDeployer(
        AppServiceHost host,
        Action<KuduDeployerOptions>? configure = null,
        ILogger<KuduConnectorDeployer>? logger = null,
        TokenCredential? credential = null)
    {
        var options = new KuduDeployerOptions();
        Configure(options, host);
        configure?.Invoke(options);
        return new KuduConnectorDeployer(Options.Create(options), credential ?? host.Credential, TimeProvider.System, logger);
    }

    public static RunFromPackageConnectorDeployer RunFromPackageDeployer(AppServiceHost host, Action<RunFromPackageDeployerOptions>? configure = null)
    {
        var options = new RunFromPackageDeployerOptions();
        Configure(options, host);
        configure?.Invoke(options);
        return new RunFromPackageConnectorDeployer(Options.Create(options), host.Credential);
    }

    public static ConnectorTarget Target(AppServiceApp app) => new(app.Name, app.ResourceId);

    /// <summary>A connector-like zip, deterministic: a few files with content that depends on the build.</summary>
    public static ArtifactPackage Package(string build, Uri? location = null, int payloadBytes = 4096)
    {
        var files = PackageFiles(build, payloadBytes);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                var entry = zip.CreateEntry(path, CompressionLevel.Fastest);
                entry.LastWriteTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(content);
            }
        }

        return ArtifactPackage.FromBytes(BuildNumber.Parse(build), buffer.ToArray(), location);
    }

    public static IReadOnlyDictionary<string, byte[]> PackageFiles(string build, int payloadBytes = 4096)
    {
        var payload = new byte[payloadBytes];
        new Random(build.GetHashCode(StringComparison.Ordinal)).NextBytes(payload);
        return new Dictionary<string, byte[]>
        {
            ["host.json"] = System.Text.Encoding.UTF8.GetBytes("{\"version\":\"2.0\"}"),
            ["build.txt"] = System.Text.Encoding.UTF8.GetBytes(build),
            ["bin/IoMT.Connector.dll"] = payload,
        };
    }

    /// <summary>Polls the host's state until a condition holds (waiting for a server, never sleeping for correctness).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(5);
        }
    }
}
