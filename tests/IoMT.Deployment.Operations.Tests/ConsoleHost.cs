using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using IoMT.Deployment.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IoMT.Deployment.Operations.Tests;

/// <summary>
/// A real ASP.NET Core host on Kestrel (loopback, a port the OS picks) with the console mapped over the local provider,
/// mid-rollout: build 1 is current on five connectors, build 2 reached the canary 'contoso' and bakes for an hour.
/// Tokens are signed by a key made for this host; the engine's clock is a <see cref="FakeTimeProvider"/>.
/// </summary>
internal sealed class ConsoleHost : IAsyncDisposable
{
    public const string Audience = "api://iomt-operations-tests";
    public const string Issuer = "https://issuer.iomt.test/";
    public const string ReaderRole = "Deployment.Read";
    public const string OperatorRole = "Deployment.Operate";
    public static readonly string[] Connectors = ["contoso", "fabrikam", "litware", "northwind", "tailspin"];

    private readonly string _root;

    private ConsoleHost(WebApplication app, string root, SymmetricSecurityKey key, FakeTimeProvider time, FakeLogCollector logs)
    {
        App = app;
        _root = root;
        Key = key;
        Time = time;
        Logs = logs;
    }

    public WebApplication App { get; }

    public SymmetricSecurityKey Key { get; }

    public FakeTimeProvider Time { get; }

    public FakeLogCollector Logs { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public Uri ConsoleAddress => new(BaseAddress, "/operations/");

    public IRolloutEngine Engine => App.Services.GetRequiredService<IRolloutEngine>();

    public async Task<VersionState> StateAsync() => (await App.Services.GetRequiredService<IVersionStore>().ReadAsync()).State;

    public static async Task<ConsoleHost> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "iomt-operations-tests-" + Guid.NewGuid().ToString("N")[..8]);
        var key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "test-key" };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new FakeLogCollector();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Information);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["IoMTOperations:Audience"] = Audience,
            ["IoMTOperations:RefreshSeconds"] = "2",
        });
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddIoMTDeployment(o =>
            {
                o.MaxParallelism = 2;
                o.Waves.Add(new WaveOptions { Name = "canary", Canary = true, BakeTime = TimeSpan.FromHours(1), MaxFailed = 0 });
                o.Waves.Add(new WaveOptions { Name = "everyone", Percent = 100, RequireHealth = false });
            })
            .AddLocalProvider(o => o.Root = root)
            .AddLocalArtifactPublisher();
        builder.Services.AddIoMTOperations(builder.Configuration, jwt =>
        {
            jwt.TokenValidationParameters.IssuerSigningKey = key;
            jwt.TokenValidationParameters.ValidIssuer = Issuer;
        });

        var app = builder.Build();
        app.MapIoMTOperations();
        var host = new ConsoleHost(app, root, key, time, logs);
        try
        {
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            host.BaseAddress = new Uri(address);
            await host.SeedMidRolloutAsync();
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Build 1 current everywhere; build 2 on the canary, baking.</summary>
    private async Task SeedMidRolloutAsync()
    {
        var delivery = App.Services.GetRequiredService<DeliveryService>();
        var fleet = App.Services.GetRequiredService<LocalFleet>();
        await fleet.AddAsync(Connectors);
        await fleet.SetCanaryAsync("contoso");
        await delivery.DeliverAsync(BuildNumber.Parse("1"), Package("1"));
        await Engine.UpdateAsync();
        await Engine.CommandAsync(OperatorAction.PromoteFull, "test setup", "seed build 1 everywhere");
        await Engine.UpdateAsync();
        var seeded = await StateAsync();
        Assert.Equal(BuildNumber.Parse("1"), seeded.Current);

        await delivery.DeliverAsync(BuildNumber.Parse("2"), Package("2"));
        var report = await Engine.UpdateAsync();
        Assert.Equal(RolloutStatus.Baking, report.Rollout?.Status);
    }

    public static byte[] Package(string build)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { ("host.json", "{}"), ("version.txt", build) })
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A signed access token shaped like Entra ID's (name, oid, roles).</summary>
    public string Token(
        string name,
        string objectId,
        string[] roles,
        string audience = Audience,
        DateTime? expires = null,
        SecurityKey? signingKey = null,
        string issuer = Issuer)
    {
        var notBefore = (expires ?? DateTime.UtcNow.AddHours(1)).AddHours(-2);
        var claims = new Dictionary<string, object> { ["name"] = name, ["roles"] = roles };
        if (objectId.Length > 0)
        {
            claims["oid"] = objectId;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = notBefore,
            IssuedAt = notBefore,
            Expires = expires ?? DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(signingKey ?? Key, SecurityAlgorithms.HmacSha256),
        });
    }

    public string OperatorToken() => Token("Olga Operator", "11111111-1111-1111-1111-111111111111", [OperatorRole]);

    public string ReaderToken() => Token("Rita Reader", "22222222-2222-2222-2222-222222222222", [ReaderRole]);

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = ConsoleAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
