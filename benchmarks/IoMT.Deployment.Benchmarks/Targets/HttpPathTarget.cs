using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using IoMT.Deployment.Benchmarks.Fakes;
using IoMT.Deployment.Benchmarks.Harness;
using IoMT.Deployment.Kudu;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Benchmarks.Targets;

/// <summary>
/// Target 4: a rollout through the engine with the Kudu deployer, pushing a 5 MB package to every app of the loopback
/// App Service host (in a child process) at parallelism 16, against raw <see cref="HttpClient"/> doing the same zip
/// deploys (POST the same bytes, poll <c>deployments/latest</c> until it reports success) over the same kind of handler.
/// Also: the artifact is opened once per rollout, and the client's peak managed memory grows by at most twice the
/// package plus 32 MB at parallelism 4, 16 and 64.
/// </summary>
internal static class HttpPathTarget
{
    private const int Parallelism = 16;
    private const int PackageBytes = 5 * 1024 * 1024;
    private const double ThroughputLimit = 0.8;
    private const long MemoryLimitBytes = (2L * PackageBytes) + (32L * 1024 * 1024);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static async Task<TargetResult> RunAsync(bool quick)
    {
        var appCount = quick ? 40 : 200;
        int[] memoryParallelism = quick ? [64] : [4, 64];
        await using var host = await AppServiceHostProcess.StartAsync(appCount);
        var credential = new LoopbackTokenCredential();
        var round = 0;
        BuildNumber NextBuild() => BuildNumber.Parse("20250201." + (++round).ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Warm-up on a few apps: JIT, TLS, the host's own warm-up.
        var warmApps = host.Apps.Take(Parallelism).ToList();
        await RunRawAsync(host, credential, warmApps, Package(NextBuild()));
        await RunEngineAsync(host, credential, warmApps, Package(NextBuild()), Parallelism);

        var raw = new List<Run>();
        var engine = new List<Run>();
        for (var i = 0; i < 2; i++)
        {
            raw.Add(await RunRawAsync(host, credential, host.Apps, Package(NextBuild())));
            engine.Add(await RunEngineAsync(host, credential, host.Apps, Package(NextBuild()), Parallelism));
        }

        var deployerOnly = await RunDeployerOnlyAsync(host, credential, host.Apps, Package(NextBuild()));
        var other = new List<(int Parallelism, Run Run)>();
        foreach (var p in memoryParallelism)
        {
            other.Add((p, await RunEngineAsync(host, credential, host.Apps, Package(NextBuild()), p)));
        }

        var bestRaw = raw.MinBy(r => r.Cost.Elapsed)!;
        var bestEngine = engine.MinBy(r => r.Cost.Elapsed)!;
        var ratio = bestRaw.Cost.Elapsed / bestEngine.Cost.Elapsed;
        var memory = engine.Select(r => (Parallelism, Run: r)).Concat(other).ToList();
        var worstGrowth = memory.Max(m => m.Run.Cost.PeakGrowthBytes);
        var opens = engine.Concat(other.Select(o => o.Run)).Max(r => r.Opens);
        var pass = ratio >= ThroughputLimit && worstGrowth <= MemoryLimitBytes && opens == 1;
        var mb = appCount * (double)PackageBytes / (1024 * 1024);
        var result = new TargetResult(
            4,
            "HTTP path",
            $"{Fmt.X(ratio)} raw throughput, peak +{Fmt.Mb(worstGrowth)}, artifact opened {opens}x/rollout",
            $">= {ThroughputLimit:0.0}x, +{Fmt.Mb(MemoryLimitBytes)}, 1x",
            TargetResult.Verdict(pass),
            $"{appCount} apps x 5 MB, P={Parallelism}, loopback host in a child process: engine+Kudu {Fmt.N(appCount / bestEngine.Cost.Elapsed.TotalSeconds)} apps/s ({Fmt.N(mb / bestEngine.Cost.Elapsed.TotalSeconds)} MB/s), "
            + $"raw HttpClient {Fmt.N(appCount / bestRaw.Cost.Elapsed.TotalSeconds)} apps/s ({Fmt.N(mb / bestRaw.Cost.Elapsed.TotalSeconds)} MB/s); "
            + $"peak growth by parallelism: {string.Join(", ", memory.OrderBy(m => m.Parallelism).Select(m => $"P={m.Parallelism} +{Fmt.Mb(m.Run.Cost.PeakGrowthBytes)}"))}");
        foreach (var r in raw)
        {
            result.Details.Add($"raw HttpClient, P={Parallelism}: {Fmt.Cost(r.Cost, appCount)}");
        }

        foreach (var (p, r) in memory)
        {
            result.Details.Add($"engine + Kudu deployer, P={p}: {Fmt.Cost(r.Cost, appCount)}; artifact opened {r.Opens}x");
        }

        result.Details.Add($"Kudu deployer's DeployAsync alone (no engine, no settings calls), P={Parallelism}: {Fmt.Cost(deployerOnly.Cost, appCount)}; {Fmt.X(bestRaw.Cost.Elapsed / deployerOnly.Cost.Elapsed)} raw throughput");
        result.Details.Add($"both poll deployments/latest every {Fmt.Ms(PollInterval)} (Kudu PollInterval; the production default is 2 s); the host finishes a deployment as soon as it has unpacked the upload");
        return result;
    }

    private static ArtifactPackage Package(BuildNumber build)
    {
        // Incompressible entries stored as they are: the zip is 5 MB, like a connector build of mostly assemblies.
        var random = new Random(build.GetHashCode());
        using var buffer = new MemoryStream(PackageBytes + 4096);
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var remaining = PackageBytes - 2048;
            for (var i = 0; remaining > 0; i++)
            {
                var size = Math.Min(remaining, 1024 * 1024);
                var bytes = new byte[size];
                random.NextBytes(bytes);
                using var stream = zip.CreateEntry($"bin/Assembly{i}.dll", CompressionLevel.NoCompression).Open();
                stream.Write(bytes);
                remaining -= size;
            }

            using var version = zip.CreateEntry("version.txt", CompressionLevel.NoCompression).Open();
            version.Write(System.Text.Encoding.UTF8.GetBytes(build.ToString()));
        }

        return ArtifactPackage.FromBytes(build, buffer.ToArray());
    }

    /// <summary>The engine composed with the Kudu deployer over the host; an update of every app to the package's build.</summary>
    private static async Task<Run> RunEngineAsync(AppServiceHostProcess host, TokenCredential credential, IReadOnlyList<HostedApp> apps, ArtifactPackage package, int parallelism)
    {
        var artifacts = new InMemoryArtifacts().Add(package.Build.ToString(), package.Content.ToArray());
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.ClearProviders().AddProvider(new NoOpSinkProvider()).SetMinimumLevel(LogLevel.Information));
        services.AddSingleton<IArtifactSource>(artifacts);
        services.AddSingleton<IVersionStore>(new InMemoryVersionStore(VersionState.Empty with { Current = BuildNumber.Parse("1") }));
        services.AddSingleton<IConnectorInventory>(new StaticInventory([.. apps.Select(a => a.Target)]));
        services.AddIoMTDeployment(o => o.MaxParallelism = parallelism)
            .UseCredential(credential)
            .AddKuduDeployer(o => Configure(o, host));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<IRolloutEngine>();
        var (cost, report) = await Measure.RunAsync(() => engine.UpdateAsync());
        if (!report.Succeeded || report.Count(ConnectorOutcome.Updated) != apps.Count)
        {
            throw new InvalidOperationException($"The Kudu rollout did not update every app: {string.Join("; ", report.Connectors.Where(c => c.Outcome != ConnectorOutcome.Updated).Take(3).Select(c => $"{c.Connector.Id} {c.Outcome} {c.ErrorMessage}"))}");
        }

        await CheckAsync(host, package, apps.Count);
        return new Run(cost, artifacts.Opens);
    }

    /// <summary>The Kudu deployer's DeployAsync alone in a bare parallel loop: where the time goes if the engine is slower.</summary>
    private static async Task<Run> RunDeployerOnlyAsync(AppServiceHostProcess host, TokenCredential credential, IReadOnlyList<HostedApp> apps, ArtifactPackage package)
    {
        var options = new KuduDeployerOptions();
        Configure(options, host);
        var deployer = new KuduConnectorDeployer(Microsoft.Extensions.Options.Options.Create(options), credential, TimeProvider.System);
        var (cost, _) = await Measure.RunAsync(async () =>
        {
            await Parallel.ForEachAsync(apps, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (app, ct) => await deployer.DeployAsync(app.Target, package, ct));
            return true;
        });
        await CheckAsync(host, package, apps.Count);
        return new Run(cost, 0);
    }

    /// <summary>The same zip deploys with a bare HttpClient: POST the bytes, then poll the status until it reports success.</summary>
    private static async Task<Run> RunRawAsync(AppServiceHostProcess host, TokenCredential credential, IReadOnlyList<HostedApp> apps, ArtifactPackage package)
    {
        using var client = new HttpClient(host.CreateHandler(), disposeHandler: true) { Timeout = TimeSpan.FromMinutes(10) };
        var token = (await credential.GetTokenAsync(new TokenRequestContext([KuduDeployerOptions.DefaultScmScope]), default)).Token;
        var bytes = package.Content;
        var (cost, _) = await Measure.RunAsync(async () =>
        {
            await Parallel.ForEachAsync(apps, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (app, ct) =>
            {
                using (var post = new HttpRequestMessage(HttpMethod.Post, new Uri(app.ScmUri, "api/zipdeploy?isAsync=true")))
                {
                    post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    post.Content = new ReadOnlyMemoryContent(bytes);
                    post.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    using var accepted = await client.SendAsync(post, ct);
                    if (accepted.StatusCode != HttpStatusCode.Accepted)
                    {
                        throw new InvalidOperationException($"zipdeploy to {app.Name} answered {(int)accepted.StatusCode}.");
                    }
                }

                while (true)
                {
                    await Task.Delay(PollInterval, ct);
                    using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(app.ScmUri, "api/deployments/latest"));
                    get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    using var status = await client.SendAsync(get, ct);
                    if (status.StatusCode == HttpStatusCode.OK)
                    {
                        using var json = JsonDocument.Parse(await status.Content.ReadAsByteArrayAsync(ct));
                        var value = json.RootElement.GetProperty("status").GetInt32();
                        if (value == 4)
                        {
                            break;
                        }

                        if (value is not (0 or 1 or 2))
                        {
                            throw new InvalidOperationException($"The deployment to {app.Name} ended with status {value}.");
                        }
                    }
                }
            });
            return true;
        });
        await CheckAsync(host, package, apps.Count);
        return new Run(cost, 0);
    }

    private static void Configure(KuduDeployerOptions options, AppServiceHostProcess host)
    {
        options.ArmEndpoint = host.Announcement.ArmEndpoint;
        options.Transport = new HttpClientTransport(host.CreateHandler());
        options.PollInterval = PollInterval;
        options.RetryDelay = TimeSpan.FromMilliseconds(10);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        options.ConflictRetryDelay = TimeSpan.FromMilliseconds(10);
    }

    private static async Task CheckAsync(AppServiceHostProcess host, ArtifactPackage package, int apps)
    {
        var (deployed, _) = await host.CheckAsync(package.Sha256);
        if (deployed != apps)
        {
            throw new InvalidOperationException($"Only {deployed} of {apps} apps run build {package.Build} after the run.");
        }
    }

    private sealed record Run(RunCost Cost, int Opens);
}
