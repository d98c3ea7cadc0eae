// LocalFleet: the whole IoMT.Deployment loop on one machine, with the embedded local provider (no Azure account).
// It packages builds, delivers them, creates a fleet of connectors, rolls updates out in two waves (the canary
// 'contoso' first, judged by its health.json after a short bake, then everyone else), deletes a connector mid-rollout,
// rolls back, shows that the next check does not redeploy an invalidated build, and then tells the progressive story:
// build 4 reaches the canary, the canary reports Unhealthy, the rollout halts and rolls back by itself, the other
// connectors never receive build 4, and the next hourly check does not try build 4 again.
using IoMT.Deployment;
using IoMT.Deployment.Local;
using LocalFleetSample;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

var keep = args.Contains("--keep");
var rootIndex = Array.IndexOf(args, "--root");
var root = rootIndex >= 0 && rootIndex + 1 < args.Length
    ? Path.GetFullPath(args[rootIndex + 1])
    : Path.Combine(Path.GetTempPath(), "iomt-localfleet-" + Guid.NewGuid().ToString("N")[..8]);
var functionApp = Path.Combine(AppContext.BaseDirectory, "function-app");

var services = new ServiceCollection();
services.AddLogging(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }).SetMinimumLevel(LogLevel.Information));
services.AddIoMTDeployment(o =>
    {
        o.MaxParallelism = 4;
        o.Waves.Add(new WaveOptions { Name = "canary", Canary = true, BakeTime = TimeSpan.FromSeconds(1), MaxFailed = 0 });
        o.Waves.Add(new WaveOptions { Name = "everyone", Percent = 100, RequireHealth = false });
    })
    .AddLocalProvider(o => o.Root = root)
    .AddLocalArtifactPublisher();

// A customer deletes a connector while build 3 rolls out: the deployer below removes it when its deployment starts.
services.AddSingleton<DirectoryConnectorDeployer>();
services.Replace(ServiceDescriptor.Singleton<IConnectorDeployer>(sp => new DeletesDuringDeploy(
    sp.GetRequiredService<DirectoryConnectorDeployer>(), sp.GetRequiredService<LocalFleet>(), connectorId: "fabrikam", build: BuildNumber.Parse("3"))));
await using var provider = services.BuildServiceProvider();

var engine = provider.GetRequiredService<IRolloutEngine>();
var delivery = provider.GetRequiredService<DeliveryService>();
var fleet = provider.GetRequiredService<LocalFleet>();
var deployer = provider.GetRequiredService<IConnectorDeployer>();
var print = new Printer(Console.Out);
var health = provider.GetServices<IConnectorHealthSignal>().OfType<LocalHealthSignal>().Single();

try
{
    print.Heading($"Local root: {root}");

    print.Heading("1. Package builds 1 and 2 deterministically and deliver them (--if-changed skips a build whose content did not change)");
    foreach (var build in new[] { "1", "2" })
    {
        await DeliverAsync(build, build);
    }

    await DeliverAsync("2.1", contentOf: "2");

    print.Heading("2. Create a local fleet of connectors");
    await fleet.AddAsync(["contoso", "fabrikam", "litware", "northwind", "tailspin"]);
    await fleet.SetCanaryAsync("contoso");
    await SetHealthAsync("contoso", "Healthy", "device messages flowing");
    await print.FleetAsync(fleet, deployer);

    print.Heading("3. Hourly check: build 2 is the newest valid build; roll it out in waves (canary, bake, health gate, everyone) and verify");
    await RollOutAsync();
    await print.FleetAsync(fleet, deployer);

    print.Heading("4. Deliver build 3; the next check updates every connector to it ('fabrikam' is deleted during its deployment: skipped, not failed)");
    await DeliverAsync("3", "3");
    await RollOutAsync();
    await print.FleetAsync(fleet, deployer);

    print.Heading("5. Build 3 misbehaves: roll back (invalidate 3, deploy the previous valid build)");
    print.Report(await engine.RollbackAsync(new RollbackRequest("error rate up after build 3", "oncall@contoso")));
    await print.FleetAsync(fleet, deployer);

    print.Heading("6. The next hourly check does not redeploy the invalidated build");
    print.Report(await engine.UpdateAsync());
    await print.FleetAsync(fleet, deployer);

    print.Heading("7. Deliver build 4; it reaches the canary, whose health file reports Unhealthy after the bake: the rollout halts and rolls back by itself");
    await DeliverAsync("4", "4");
    await SetHealthAsync("contoso", "Unhealthy", "device messages failing");
    await RollOutAsync();
    await print.FleetAsync(fleet, deployer);

    print.Heading("8. The next hourly check does not try build 4 again");
    print.Report(await engine.UpdateAsync());
    await print.FleetAsync(fleet, deployer);

    print.Heading("9. Status");
    await print.StatusAsync(engine);
    return 0;

    // One tick per call; between ticks the worker would wait for the bake's end: here, the sample waits for it.
    async Task RollOutAsync()
    {
        var report = await engine.UpdateAsync();
        print.Report(report);
        while (report.Rollout is { IsActive: true } && report.NextTickAt is { } next)
        {
            var wait = next - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            report = await engine.UpdateAsync();
            print.Report(report);
        }
    }

    Task SetHealthAsync(string connector, string status, string reason) =>
        File.WriteAllTextAsync(health.PathOf(connector), $$"""{"status": "{{status}}", "reason": "{{reason}}"}""");

    async Task DeliverAsync(string build, string contentOf)
    {
        var bytes = await SampleBuilds.PackageAsync(functionApp, contentOf, root);
        var result = await delivery.DeliverAsync(BuildNumber.Parse(build), bytes, ifChanged: true);
        var note = result.Outcome == DeliveryOutcome.Unchanged ? $" (same content as build {result.NewestBuild})" : string.Empty;
        Console.WriteLine($"   build {build,-4} {result.Outcome,-10} sha256 {result.Sha256[..16]}... {result.Size} bytes{note}");
    }
}
finally
{
    Console.WriteLine();
    Console.WriteLine(keep ? $"Kept {root}." : "Removed the local root (run with --keep to look at it).");
    if (!keep && Directory.Exists(root))
    {
        Directory.Delete(root, recursive: true);
    }
}
