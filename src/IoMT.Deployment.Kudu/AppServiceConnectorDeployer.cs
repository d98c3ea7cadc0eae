using Azure.Core;
using IoMT.Deployment.Composition;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// What the App Service deployers share: <c>PROJECT_VERSION</c> is read through ARM
/// (<c>POST …/config/appsettings/list</c>, never Kudu's cached <c>/api/settings</c>) and written by read, merge and one
/// <c>PUT …/config/appsettings</c> (which replaces every setting), serialized per app and skipped when the value is already equal.
/// </summary>
/// <remarks>
/// A 404 is <see cref="ConnectorNotFoundException"/> everywhere. Other ARM failures of <see cref="DeployAsync"/> and
/// <see cref="SetProjectVersionAsync"/> surface as <see cref="DeploymentFailedException"/> (the Azure.Core exception inside);
/// those of <see cref="GetProjectVersionAsync"/> as Azure.Core throws them: <see cref="Azure.RequestFailedException"/> for an
/// error status (a 429 that outlasts the retries included), <see cref="AggregateException"/> when every retry failed in transport.
/// </remarks>
public abstract class AppServiceConnectorDeployer : IConnectorDeployer
{
    private protected AppServiceConnectorDeployer(AppServiceOptions options, TokenCredential credential, TimeProvider? timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        Time = timeProvider ?? TimeProvider.System;
        Logger = logger ?? NullLogger.Instance;
        Settings = new AppSettingsEditor(new AppServiceArmClient(options, credential, Time), new SiteGates(), Logger);
    }

    private protected AppSettingsEditor Settings { get; }

    private protected TimeProvider Time { get; }

    private protected ILogger Logger { get; }

    /// <summary>The options' value, validated as DI validates it at start (a constructor outside DI gets the same messages).</summary>
    private protected static T ValueOf<T>(IOptions<T> options)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        DeploymentOptionsValidation.ThrowIfInvalid(value);
        return value;
    }

    /// <inheritdoc/>
    public abstract Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default);

    /// <inheritdoc/>
    public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return Settings.SetProjectVersionAsync(connector, build, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return Settings.GetProjectVersionAsync(connector, cancellationToken);
    }
}
