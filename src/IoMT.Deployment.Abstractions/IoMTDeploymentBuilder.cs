using Microsoft.Extensions.DependencyInjection;

namespace IoMT.Deployment;

/// <summary>
/// Returned by <c>services.AddIoMTDeployment()</c>; adapter packages extend it
/// (<c>.AddBlobArtifacts(…)</c>, <c>.AddCosmosVersionStore(…)</c>, <c>.AddKuduDeployer(…)</c>).
/// </summary>
public interface IIoMTDeploymentBuilder
{
    /// <summary>Gets the service collection the library is composed into.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Names shared by every package: the telemetry sources.</summary>
public static class DeploymentTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/> of IoMT.Deployment.</summary>
    public const string Name = "IoMT.Deployment";
}
