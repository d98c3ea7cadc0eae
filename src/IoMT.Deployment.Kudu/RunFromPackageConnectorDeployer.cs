using Azure.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// Deploys by pointing a Function app at the build's package blob: one read-merge-write of the app settings that sets
/// <c>WEBSITE_RUN_FROM_PACKAGE</c> to <see cref="ArtifactPackage.Location"/> together with <c>PROJECT_VERSION</c>
/// (and <c>WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID</c> when configured), then
/// <c>POST …/syncfunctiontriggers</c>. No package bytes are pushed to the apps.
/// </summary>
/// <remarks>
/// The apps' identity needs Storage Blob Data Reader on the artifact container. Every call is an ARM call.
/// <see cref="AppServiceConnectorDeployer.SetProjectVersionAsync"/> then finds <c>PROJECT_VERSION</c> already set and writes nothing.
/// </remarks>
public sealed class RunFromPackageConnectorDeployer : AppServiceConnectorDeployer
{
    /// <summary>The app setting that names the package the app runs from.</summary>
    public const string RunFromPackageSetting = "WEBSITE_RUN_FROM_PACKAGE";

    /// <summary>The app setting that names the user-assigned identity used to read the package blob.</summary>
    public const string ManagedIdentitySetting = "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID";

    private readonly string? _managedIdentityResourceId;

    /// <summary>Creates the deployer and its ARM pipeline.</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The credential for ARM.</param>
    /// <param name="timeProvider">The clock for durations; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    public RunFromPackageConnectorDeployer(
        IOptions<RunFromPackageDeployerOptions> options,
        TokenCredential credential,
        TimeProvider? timeProvider = null,
        ILogger<RunFromPackageConnectorDeployer>? logger = null)
        : base(ValueOf(options), credential, timeProvider, logger)
    {
        _managedIdentityResourceId = options.Value.ManagedIdentityResourceId;
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The package has no <see cref="ArtifactPackage.Location"/>: the artifact store cannot say where it lives.</exception>
    public override async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(package);
        if (package.Location is null || !package.Location.IsAbsoluteUri)
        {
            throw new InvalidOperationException(
                $"Build {package.Build} has no absolute package location (ArtifactPackage.Location), so the Run-From-Package deployer cannot point connector '{connector.Id}' at it. Use an artifact source that reports blob URLs, or the Kudu deployer.");
        }

        var started = Time.GetTimestamp();
        var changes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RunFromPackageSetting] = package.Location.AbsoluteUri,
            [ProjectVersionSetting.Name] = package.Build.ToString(),
        };
        if (_managedIdentityResourceId is { } identity)
        {
            changes[ManagedIdentitySetting] = identity;
        }

        await Settings.MergeAsync(connector, package.Build, changes, cancellationToken).ConfigureAwait(false);
        try
        {
            await Settings.Arm.SyncFunctionTriggersAsync(SiteIds.Parse(connector), connector.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ServiceFailures.IsServiceFailure(ex, cancellationToken))
        {
            throw ServiceFailures.Fail(connector.Id, $"Build {package.Build} is set on connector '{connector.Id}' but syncing its function triggers failed", ex);
        }

        var elapsedMs = (long)Time.GetElapsedTime(started).TotalMilliseconds;
        Log.RunFromPackageDeployed(Logger, connector.Id, package.Build, elapsedMs);
    }
}
