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
