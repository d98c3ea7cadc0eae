using IoMT.Deployment.Benchmarks.Targets;

namespace IoMT.Deployment.Benchmarks.Harness;

/// <summary>Runs the end-to-end targets one after the other and prints one verdict line per target.</summary>
internal static class TargetHarness
{
    public static async Task<IReadOnlyList<TargetResult>> RunAsync(bool quick, int[]? only = null)
    {
        Console.WriteLine($"IoMT.Deployment targets{(quick ? " (--quick: reduced sizes, figures not comparable with the limits' sizes)" : string.Empty)}; {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
        var results = new List<TargetResult>();
        async Task Run(Func<Task<IReadOnlyList<TargetResult>>> target, params int[] numbers)
        {
            if (only is not null && !numbers.Any(only.Contains))
            {
                return;
            }

            IReadOnlyList<TargetResult> outcome;
            try
            {
                outcome = await target();
            }
            catch (Exception ex)
            {
                // A target that cannot run (a test server not installed, a host that did not start) fails, with why.
                outcome = [.. numbers.Select(n => new TargetResult(n, "error", "-", "-", TargetStatus.Fail, $"could not run: {ex.GetType().Name}: {ex.Message}"))];
            }

            foreach (var result in outcome)
            {
                results.Add(result);
                Console.WriteLine(result.Line);
                if (result.Status != TargetStatus.Skipped)
                {
                    Console.WriteLine($"  {result.Notes}");
                }

                Console.Out.Flush();

                foreach (var detail in result.Details)
                {
                    Console.WriteLine($"    {detail}");
                }
            }
        }

        await Run(async () => [await MakespanTarget.RunAsync(quick)], 1);
        await Run(() => OverheadTargets.RunAsync(quick), 2, 3);
        await Run(async () => [await HttpPathTarget.RunAsync(quick)], 4);
        await Run(async () => [await DeliveryTarget.RunAsync(quick)], 5);
        await Run(async () => [await ThrottleTarget.RunAsync(quick)], 6);

        var failed = results.Count(r => r.Status == TargetStatus.Fail);
        Console.WriteLine($"targets: {results.Count(r => r.Status == TargetStatus.Pass)} passed, {failed} failed, {results.Count(r => r.Status == TargetStatus.Skipped)} skipped");
        return results;
    }
}
