// OperationsHost: the IoMT.Deployment operator console on the embedded local provider, with the update worker ticking.
//   dotnet run --project samples/OperationsHost -- --seed      (Development: seeds a fleet and two builds, mints dev tokens)
// Production hosts configure IoMTOperations:Authority/Audience (Entra ID) and never set a development signing key.
using System.IO.Compression;
using System.Security.Claims;
using System.Text;
using IoMT.Deployment;
using IoMT.Deployment.Local;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

// --seed is a switch of this sample, not configuration: kept out of the command-line configuration, which would read the
// next argument (say --urls) as its value.
var seed = args.Contains("--seed");
var builder = WebApplication.CreateBuilder(args.Where(a => a != "--seed").ToArray());
var root = Path.GetFullPath(builder.Configuration["OperationsHost:Root"] ?? Path.Combine(Path.GetTempPath(), "iomt-operations-host"));
var devKey = DevelopmentTokens.ReadKey(builder.Configuration, builder.Environment);

builder.Services.AddIoMTDeployment(o =>
    {
        o.MaxParallelism = 4;
        o.Waves.Add(new WaveOptions { Name = "canary", Canary = true, BakeTime = TimeSpan.FromMinutes(2), MaxFailed = 0, RequireHealth = false });
        o.Waves.Add(new WaveOptions { Name = "early", Percent = 50, BakeTime = TimeSpan.FromMinutes(1), RequireHealth = false });
        o.Waves.Add(new WaveOptions { Name = "everyone", Percent = 100, RequireHealth = false });
    })
    .AddLocalProvider(o => o.Root = root)
    .AddLocalArtifactPublisher()
    .AddUpdateWorker(o =>
    {
        o.InitialDelay = TimeSpan.FromSeconds(5);
        o.Period = TimeSpan.FromMinutes(5);
        o.ActivePeriod = TimeSpan.FromSeconds(15);
    });
builder.Services.AddIoMTOperations(builder.Configuration, jwt =>
{
    if (devKey is not null)
    {
        jwt.TokenValidationParameters.IssuerSigningKey = devKey;
        jwt.TokenValidationParameters.ValidIssuer = DevelopmentTokens.Issuer;
    }
});

var app = builder.Build();
app.MapIoMTOperations("/operations");
app.MapGet("/", () => Results.Redirect("/operations/"));
if (devKey is not null)
{
    DevelopmentTokens.Map(app, devKey);
}

if (seed)
{
    await Seed.RunAsync(app.Services);
}

app.Logger.LogInformation("Local provider root: {Root}. Console: /operations/", root);
await app.RunAsync();

/// <summary>
/// Development-only tokens, enabled by <c>OperationsHost:DevelopmentTokens</c> = true and refused outside the Development
/// environment: a symmetric signing key made at start-up (tokens die with the process), or the base64 key in
/// <c>OperationsHost:DevelopmentSigningKey</c> (keep it in user-secrets, 32 bytes or more) for tokens that survive restarts;
/// and <c>GET /dev/token?role=operator|reader&amp;name=…</c> minting a one-hour token for loopback callers. Never deploy
/// this: whoever reaches the endpoint becomes an operator.
/// </summary>
internal static class DevelopmentTokens
{
    public const string Issuer = "https://operations-host.localhost/dev";

    public static SymmetricSecurityKey? ReadKey(IConfiguration configuration, IWebHostEnvironment environment)
    {
        if (!configuration.GetValue<bool>("OperationsHost:DevelopmentTokens"))
        {
            return null;
        }

        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException($"OperationsHost:DevelopmentTokens is set in the {environment.EnvironmentName} environment: it is for Development only. Remove it and configure IoMTOperations:Authority.");
        }

        var text = configuration["OperationsHost:DevelopmentSigningKey"];
        var bytes = string.IsNullOrWhiteSpace(text) ? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32) : Convert.FromBase64String(text);
        return bytes.Length >= 32
            ? new SymmetricSecurityKey(bytes) { KeyId = "operations-host-dev" }
            : throw new InvalidOperationException("OperationsHost:DevelopmentSigningKey must be base64 of at least 32 bytes.");
    }

    public static void Map(WebApplication app, SymmetricSecurityKey key)
    {
        var audience = app.Configuration["IoMTOperations:Audience"];
        var operatorRole = app.Configuration["IoMTOperations:OperatorRole"] ?? "Deployment.Operate";
        var readerRole = app.Configuration["IoMTOperations:ReaderRole"] ?? "Deployment.Read";
        app.MapGet("/dev/token", (string? role, string? name, TimeProvider time, HttpContext http) =>
        {
            if (http.Connection.RemoteIpAddress is { } remote && !System.Net.IPAddress.IsLoopback(remote))
            {
                return Results.Problem("Development tokens are only minted for loopback callers.", statusCode: StatusCodes.Status403Forbidden);
            }

            var isReader = string.Equals(role, "reader", StringComparison.OrdinalIgnoreCase);
            var now = time.GetUtcNow().UtcDateTime;
            var who = string.IsNullOrWhiteSpace(name) ? (isReader ? "Dev Reader" : "Dev Operator") : name;
            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = Issuer,
                Audience = audience,
                Subject = new ClaimsIdentity([new Claim("name", who), new Claim("oid", DeterministicId(who)), new Claim("roles", isReader ? readerRole : operatorRole)]),
                NotBefore = now,
                IssuedAt = now,
                Expires = now.AddHours(1),
                SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
            });
            return Results.Json(new { accessToken = token, expiresIn = 3600 });
        });
    }

    private static string DeterministicId(string name) =>
        new Guid(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 16)).ToString();
}

/// <summary>Seeds an empty local root: six connectors ('contoso' the canary) and builds 1 and 2; the worker rolls them out.</summary>
internal static class Seed
{
    public static async Task RunAsync(IServiceProvider services)
    {
        var fleet = services.GetRequiredService<LocalFleet>();
        if ((await fleet.ReadAsync()).Count > 0)
        {
            return;
        }

        await fleet.AddAsync(["contoso", "fabrikam", "litware", "northwind", "tailspin", "woodgrove"]);
        await fleet.SetCanaryAsync("contoso");
        var delivery = services.GetRequiredService<DeliveryService>();
        foreach (var build in new[] { "1", "2" })
        {
            await delivery.DeliverAsync(BuildNumber.Parse(build), Package(build));
        }
    }

    private static byte[] Package(string build)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in new[] { ("host.json", "{\"version\": \"2.0\"}"), ("version.txt", build) })
            {
                var entry = zip.CreateEntry(name);
                entry.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        return buffer.ToArray();
    }
}
