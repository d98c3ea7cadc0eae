using IoMT.Deployment.Benchmarks.Harness;

namespace IoMT.Deployment.Benchmarks.Targets;

internal static class DeliveryTarget
{
    public static Task<TargetResult> RunAsync(bool quick) =>
        Task.FromResult(TargetResult.Skipped(5, "Delivery", "0.9x BlobClient.UploadAsync", "not written yet"));
}
