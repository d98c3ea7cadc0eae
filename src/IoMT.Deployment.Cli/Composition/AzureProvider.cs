using Microsoft.Extensions.Configuration;

namespace IoMT.Deployment.Cli.Composition;

/// <summary>Composes the Azure adapters (Blob Storage, Cosmos DB, App Service) from the <c>Azure</c> configuration section.</summary>
internal static class AzureProvider
{
    /// <summary>Adds the adapters a command needs.</summary>
    /// <param name="builder">The IoMT.Deployment builder.</param>
    /// <param name="configuration">The configuration.</param>
    /// <param name="needs">What the command needs.</param>
    public static void Add(IIoMTDeploymentBuilder builder, IConfiguration configuration, CommandNeeds needs)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        throw new CliException(ExitCodes.BadInput, "The azure provider is not wired yet.");
    }
}
