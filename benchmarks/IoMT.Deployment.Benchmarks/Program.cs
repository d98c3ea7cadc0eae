using IoMT.Deployment.Benchmarks.Harness;
using IoMT.Deployment.Benchmarks.Micro;
using IoMT.Deployment.Benchmarks.Targets;

using IoMT.Deployment.Benchmarks.Fakes;

// dotnet run -c Release --project benchmarks/IoMT.Deployment.Benchmarks -- [targets|micro|all] [--quick] [--only 1,2,...] [--markdown FILE] [BenchmarkDotNet args…]
if (args is ["serve-appservice", var appCount])
{
    // The child process of target 4: the loopback App Service host, out of the measured process.
    return await AppServiceHostProcess.ServeAsync(int.Parse(appCount, System.Globalization.CultureInfo.InvariantCulture));
}

var mode = "all";
var quick = false;
string? markdown = null;
int[]? only = null;
var rest = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "targets" or "micro" or "all" when i == 0:
            mode = args[i];
            break;
        case "--quick":
            quick = true;
            break;
        case "--only" when i + 1 < args.Length:
            only = [.. args[++i].Split(',').Select(int.Parse)];
            break;
        case "--markdown" when i + 1 < args.Length:
            markdown = Path.GetFullPath(args[++i]);
            break;
        case "-h" or "--help":
            Console.WriteLine("usage: IoMT.Deployment.Benchmarks [targets|micro|all] [--quick] [--only 1,2,...] [--markdown FILE] [BenchmarkDotNet options, e.g. --filter *BuildNumber*]");
            return 0;
        default:
            rest.Add(args[i]);
            break;
    }
}

#if DEBUG
Console.Error.WriteLine("Benchmarks must run in Release: dotnet run -c Release --project benchmarks/IoMT.Deployment.Benchmarks");
return 2;
#else
var results = new List<TargetResult>();
var microReports = new List<string>();
var failed = false;
if (mode is "targets" or "all")
{
    results.AddRange(await TargetHarness.RunAsync(quick, only));
    failed |= results.Any(r => r.Status == TargetStatus.Fail);
}

if (mode is "micro" or "all")
{
    var (ok, reports) = MicroBenchmarks.Run([.. rest], quick);
    microReports.AddRange(reports);
    failed |= !ok;
}

if (markdown is not null)
{
    ResultsMarkdown.Write(markdown, quick, results, microReports);
    Console.WriteLine($"results written to {markdown}");
}

return failed ? 1 : 0;
#endif
