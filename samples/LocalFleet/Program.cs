// LocalFleet: the whole IoMT.Deployment loop on one machine, with the embedded local provider (no Azure account).
// It packages three builds, delivers them, creates a fleet of connectors, rolls updates out, deletes a connector
// mid-rollout, rolls back, shows that the next check does not redeploy the invalidated build, and prints the reports.
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
services.AddIoMTDeployment(o => o.MaxParallelism = 4)
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
    await print.FleetAsync(fleet, deployer);

    print.Heading("3. Hourly check: build 2 is the newest valid build; roll it out and verify");
    print.Report(await engine.UpdateAsync());
    await print.FleetAsync(fleet, deployer);

    print.Heading("4. Deliver build 3; the next check updates every connector to it ('fabrikam' is deleted during its deployment: skipped, not failed)");
    await DeliverAsync("3", "3");
    print.Report(await engine.UpdateAsync());
    await print.FleetAsync(fleet, deployer);

    print.Heading("5. Build 3 misbehaves: roll back (invalidate 3, deploy the previous valid build)");
    print.Report(await engine.RollbackAsync(new RollbackRequest("error rate up after build 3", "oncall@contoso")));
    await print.FleetAsync(fleet, deployer);

    print.Heading("6. The next hourly check does not redeploy the invalidated build");
    print.Report(await engine.UpdateAsync());
    await print.FleetAsync(fleet, deployer);

    print.Heading("7. Status");
    await print.StatusAsync(engine);
    return 0;

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
