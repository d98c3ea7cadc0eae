using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment;

/// <summary>Names shared by every package: the telemetry sources.</summary>
public static class DeploymentTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/> of IoMT.Deployment.</summary>
    public const string Name = "IoMT.Deployment";
}
