using System.Globalization;
using Azure.Storage.Blobs;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>Azurite's blob service on a free loopback port, in memory, for the tests of <c>--provider azure</c>.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _workingDirectory = Path.Combine(Path.GetTempPath(), "iomt-cli-azurite-" + Guid.NewGuid().ToString("N"));
    private NodeServer? _server;

    public string ConnectionString { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var script = TestPaths.RequireNodeModule("azurite/dist/src/blob/main.js");
        var port = FreePort.Next();
        Directory.CreateDirectory(_workingDirectory);
        _server = await NodeServer.StartAsync(
            script,
            ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            port,
            workingDirectory: _workingDirectory);
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_workingDirectory, recursive: true);
    }
}

/// <summary>The Azure provider: the delivery step against Azurite, and settings checked before anything is reached.</summary>
public sealed class AzureProviderTests : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly AzuriteFixture _azurite;
    private readonly Workspace _ws = new();

    public AzureProviderTests(AzuriteFixture azurite) => _azurite = azurite;

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Deliver_with_the_azure_provider_publishes_to_the_blob_container_and_never_prints_the_key()
    {
        var container = "cli-" + Guid.NewGuid().ToString("N")[..12];
        var environment = new Dictionary<string, string?>
        {
            ["IOMT_DEPLOY__PROVIDER"] = "azure",
            ["IOMT_DEPLOY__AZURE__BLOBS__CONNECTIONSTRING"] = _azurite.ConnectionString,
            ["IOMT_DEPLOY__AZURE__BLOBS__CONTAINERNAME"] = container,
            ["IOMT_DEPLOY__AZURE__BLOBS__CREATEIFMISSING"] = "true",
        };
        var folder = _ws.MakeFunction(1);

        var delivered = _ws.RunBare(environment, "deliver", folder, "--build", "1", "--output", "json").Exits(0);
        Assert.Equal("Delivered", delivered.Json().GetProperty("outcome").GetString());
        var conflict = _ws.RunBare(environment, "deliver", _ws.MakeFunction(1, "other"), "--build", "1").Exits(3);
        var unchanged = _ws.RunBare(environment, "deliver", folder, "--build", "2", "--if-changed", "--output", "json").Exits(0);
        Assert.Equal("Unchanged", unchanged.Json().GetProperty("outcome").GetString());

        var blobs = new BlobServiceClient(_azurite.ConnectionString).GetBlobContainerClient(container).GetBlobs().Select(b => b.Name).ToList();
        Assert.Equal(["1.zip"], blobs);
        Assert.All(new[] { delivered, conflict, unchanged }, run => Assert.DoesNotContain(AzuriteFixture.AccountKey, run.Stdout + run.Stderr, StringComparison.Ordinal));
    }

    [Fact]
    public void The_azure_provider_without_its_settings_exits_2_naming_each_missing_setting()
    {
        var environment = new Dictionary<string, string?> { ["IOMT_DEPLOY__AZURE__BLOBS__CONNECTIONSTRING"] = _azurite.ConnectionString };
        var run = _ws.RunBare(environment, "status", "--provider", "azure", "--output", "json").Exits(2);
        Assert.Contains("Azure:Cosmos:AccountEndpoint (IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTENDPOINT) is required", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Azure:Cosmos:DatabaseName (IOMT_DEPLOY__AZURE__COSMOS__DATABASENAME) is required", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Azure:Blobs", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("badInput", run.Json().GetProperty("error").GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData("update", "rollout lock", "take the lock rollout.lock")]
    [InlineData("status", "version store", "read the version state")]
    public void An_unreachable_store_exits_6_naming_the_store_endpoint_and_operation_within_the_store_timeout(string command, string store, string operation)
    {
        // Nothing listens on these ports: every store is down.
        var blobEndpoint = $"http://127.0.0.1:{FreePort.Next()}/devstoreaccount1";
        var cosmosEndpoint = $"https://127.0.0.1:{FreePort.Next()}/";
        var environment = new Dictionary<string, string?>
        {
            ["IOMT_DEPLOY__AZURE__BLOBS__CONNECTIONSTRING"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteFixture.AccountKey};BlobEndpoint={blobEndpoint};",
            ["IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTENDPOINT"] = cosmosEndpoint,
            ["IOMT_DEPLOY__AZURE__COSMOS__ACCOUNTKEY"] = Convert.ToBase64String("not-a-real-key-0123456789"u8.ToArray()),
            ["IOMT_DEPLOY__AZURE__COSMOS__DATABASENAME"] = "iomt",
            ["IOMT_DEPLOY__AZURE__COSMOS__CONNECTIONMODE"] = "gateway",
            ["IOMT_DEPLOY__AZURE__STORETIMEOUT"] = "00:00:04",
        };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var run = _ws.RunBare(environment, command, "--provider", "azure", "--output", "json").Exits(6);

        // The process start-up is included; without the bound the storage client alone retries for ~25 s.
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(15), "Failed within the store timeout.");
        var error = run.Json().GetProperty("error");
        Assert.Equal("storeUnavailable", error.GetProperty("kind").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.StartsWith($"The {store} at ", message, StringComparison.Ordinal);
        Assert.Contains(store == "rollout lock" ? blobEndpoint : cosmosEndpoint.TrimEnd('/'), message, StringComparison.Ordinal);
        Assert.Contains($"could not {operation}", message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", message, StringComparison.Ordinal);
        Assert.Contains($"iomt-deploy: error: {message}", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, run.Stdout + run.Stderr, StringComparison.Ordinal);
    }
}
