using Azure.Core;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Kudu;

/// <summary>Reads and read-merge-writes a Function app's settings through ARM, one writer per app at a time.</summary>
internal sealed class AppSettingsEditor(AppServiceArmClient arm, SiteGates gates, ILogger logger)
{
    public AppServiceArmClient Arm => arm;

    public SiteGates Gates => gates;

    /// <summary>Reads <c>PROJECT_VERSION</c>.</summary>
    public async Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken)
    {
        var siteId = SiteIds.Parse(connector);
        var settings = await arm.ListAppSettingsAsync(siteId, connector.Id, cancellationToken).ConfigureAwait(false);
        return settings.TryGetValue(ProjectVersionSetting.Name, out var value) ? value : null;
    }

    /// <summary>Sets <c>PROJECT_VERSION</c>, skipping the write when it already has the value.</summary>
    public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken) =>
        MergeAsync(connector, build, new Dictionary<string, string> { [ProjectVersionSetting.Name] = build.ToString() }, cancellationToken);

    /// <summary>
    /// Reads every setting, applies <paramref name="changes"/> and writes them all back in one PUT, under the app's lock;
    /// nothing is written when every change is already in place.
    /// </summary>
    /// <returns><see langword="true"/> when the settings were written.</returns>
    /// <exception cref="ConnectorNotFoundException">The app is gone.</exception>
    /// <exception cref="DeploymentFailedException">ARM refused the read or the write.</exception>
    public async Task<bool> MergeAsync(ConnectorTarget connector, BuildNumber build, IReadOnlyDictionary<string, string> changes, CancellationToken cancellationToken)
    {
        var siteId = SiteIds.Parse(connector);
        using (await gates.EnterAsync(siteId.ToString(), cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var settings = await arm.ListAppSettingsAsync(siteId, connector.Id, cancellationToken).ConfigureAwait(false);
                var changed = false;
                foreach (var (name, value) in changes)
                {
                    if (!settings.TryGetValue(name, out var current) || !string.Equals(current, value, StringComparison.Ordinal))
                    {
                        settings[name] = value;
                        changed = true;
                    }
                }

                if (!changed)
                {
                    Log.SettingsUnchanged(logger, connector.Id, build);
                    return false;
                }

                await arm.PutAppSettingsAsync(siteId, connector.Id, settings, cancellationToken).ConfigureAwait(false);
                Log.SettingsWritten(logger, connector.Id, build, changes.Count);
                return true;
            }
            catch (Exception ex) when (ServiceFailures.IsServiceFailure(ex, cancellationToken))
            {
                throw ServiceFailures.Fail(connector.Id, $"Writing the app settings of connector '{connector.Id}' for build {build} failed", ex);
            }
        }
    }
}

/// <summary>Reads the Function app's resource id from a connector.</summary>
internal static class SiteIds
{
    private static readonly ResourceType SiteType = new("Microsoft.Web/sites");

    /// <exception cref="ArgumentException">The connector has no resource id, or it is not a Microsoft.Web/sites id.</exception>
    public static ResourceIdentifier Parse(ConnectorTarget connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        if (string.IsNullOrWhiteSpace(connector.ResourceId))
        {
            throw new ArgumentException(
                $"Connector '{connector.Id}' has no ResourceId; the App Service deployers need the Function app's ARM resource id (/subscriptions/…/resourceGroups/…/providers/Microsoft.Web/sites/{{name}}).",
                nameof(connector));
        }

        if (!ResourceIdentifier.TryParse(connector.ResourceId, out var id) || id is null)
        {
            throw new ArgumentException($"Connector '{connector.Id}' has a ResourceId that is not an ARM resource id: '{connector.ResourceId}'.", nameof(connector));
        }

        if (id.ResourceType != SiteType || id.SubscriptionId is null || id.ResourceGroupName is null)
        {
            throw new ArgumentException(
                $"Connector '{connector.Id}' has ResourceId '{connector.ResourceId}' of type '{id.ResourceType}'; a Microsoft.Web/sites resource id in a resource group is needed.",
                nameof(connector));
        }

        return id;
    }
}
