using IoMT.Deployment.Benchmarks.Harness;

namespace IoMT.Deployment.Benchmarks.Targets;

internal static class HttpPathTarget
{
    public static Task<TargetResult> RunAsync(bool quick) =>
        Task.FromResult(TargetResult.Skipped(4, "HTTP path", "0.8x raw HttpClient", "not written yet"));
}
