using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using IoMT.Deployment.Composition;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// The connectors are the Function apps of a subscription (or one resource group) as ARM lists them
/// (<c>GET …/providers/Microsoft.Web/sites</c>, following <c>nextLink</c>): sites whose kind contains
/// <c>functionapp</c> and not <c>workflowapp</c>, carrying <see cref="ArmConnectorInventoryOptions.RequiredTagName"/>
/// when one is configured.
/// </summary>
/// <remarks>
/// A connector's id is the site name by default (site names are unique across Azure: they are host names), or the
/// full resource id (<see cref="ArmConnectorInventoryOptions.ConnectorId"/>); <see cref="ConnectorTarget.ResourceId"/>
/// is always the site's resource id and <see cref="ConnectorTarget.Tags"/> its tags.
/// Listing failures leave as the Abstractions' store exceptions (the Azure one inside): <see cref="StoreThrottledException"/>
/// for 429 beyond the retries, <see cref="StoreAccessDeniedException"/> for 401/403 or no token, else
/// <see cref="StoreUnavailableException"/>.
/// </remarks>
public sealed class ArmConnectorInventory : IConnectorInventory
{
    private readonly ArmConnectorInventoryOptions _options;
    private readonly AppServiceArmClient _arm;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _scope;

    // Site name -> resource id, learned while listing, so ExistsAsync by name needs no listing.
    private readonly ConcurrentDictionary<string, string> _knownSites = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the inventory and its ARM pipeline.</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The credential for ARM.</param>
    /// <param name="timeProvider">The clock for durations; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    public ArmConnectorInventory(
        IOptions<ArmConnectorInventoryOptions> options,
        TokenCredential credential,
        TimeProvider? timeProvider = null,
        ILogger<ArmConnectorInventory>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _options = options.Value;
        DeploymentOptionsValidation.ThrowIfInvalid(_options);

        _time = timeProvider ?? TimeProvider.System;
        _arm = new AppServiceArmClient(_options, credential, _time);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _scope = _options.ResourceGroup is null
            ? $"/subscriptions/{_options.SubscriptionId}"
            : $"/subscriptions/{_options.SubscriptionId}/resourceGroups/{_options.ResourceGroup}";
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ConnectorTarget> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = _time.GetTimestamp();
        var pages = 0;
        var connectors = 0;
        await foreach (var page in PagesAsync("list the connectors' Function apps", cancellationToken).ConfigureAwait(false))
        {
            pages++;
            var kept = 0;
            foreach (var site in page)
            {
                if (!IsConnector(site))
                {
                    continue;
                }

                _knownSites[site.Name] = site.Id;
                kept++;
                connectors++;
                yield return ToTarget(site);
            }

            Log.InventoryPageListed(_logger, pages, page.Count, kept);
        }

        var elapsedMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        Log.InventoryListed(_logger, connectors, pages, elapsedMs);
    }

    /// <inheritdoc/>
    /// <remarks>A site that exists but is no longer a connector (its tag was removed, say) does not count.</remarks>
    public async Task<bool> ExistsAsync(string connectorId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectorId);
        var siteId = ResolveSiteId(connectorId);
        if (siteId is null)
        {
            // By name, in a subscription-wide inventory, for a site this instance has not listed yet: look for it.
            await foreach (var page in PagesAsync($"look for connector '{connectorId}'", cancellationToken).ConfigureAwait(false))
            {
                foreach (var site in page)
                {
                    if (string.Equals(site.Name, connectorId, StringComparison.OrdinalIgnoreCase))
                    {
                        _knownSites[site.Name] = site.Id;
                        return IsConnector(site);
                    }
                }
            }

            return false;
        }

        try
        {
            var found = await _arm.TryGetSiteAsync(siteId, cancellationToken).ConfigureAwait(false);
            return found is not null && IsConnector(found);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            throw StoreFailure($"look up connector '{connectorId}'", ex);
        }
    }

    /// <summary>The site pages of the scope, with ARM's failures mapped to the Abstractions' store exceptions.</summary>
    private async IAsyncEnumerable<IReadOnlyList<SiteInfo>> PagesAsync(string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pages = _arm.ListSitePagesAsync(_scope, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (pages.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await pages.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
                {
                    throw StoreFailure(operation, ex);
                }

                yield return pages.Current;
            }
        }
    }

    private static bool IsStoreFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is RequestFailedException or AggregateException or HttpRequestException or TimeoutException or Azure.Identity.AuthenticationFailedException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private StoreException StoreFailure(string operation, Exception exception)
    {
        var endpoint = "Azure Resource Manager " + _scope;
        return exception switch
        {
            RequestFailedException { Status: 429 } => new StoreThrottledException(StoreUnavailableException.ConnectorInventory, endpoint, operation, null, exception),
            RequestFailedException { Status: 401 or 403 } denied => new StoreAccessDeniedException(StoreUnavailableException.ConnectorInventory, endpoint, operation, $"{denied.Status}, {denied.ErrorCode ?? "no error code"}", exception),
            Azure.Identity.AuthenticationFailedException => new StoreAccessDeniedException(StoreUnavailableException.ConnectorInventory, endpoint, operation, "no token could be obtained for the identity", exception),
            RequestFailedException { Status: > 0 and < 500 and not 408 } answered => new StoreUnavailableException(StoreUnavailableException.ConnectorInventory, endpoint, operation, isTransient: false, $"ARM answered {answered.Status} ({answered.ErrorCode ?? "no error code"})", exception),
            _ => new StoreUnavailableException(StoreUnavailableException.ConnectorInventory, endpoint, operation, isTransient: true, exception.GetBaseException().Message, exception),
        };
    }

    private ResourceIdentifier? ResolveSiteId(string connectorId)
    {
        if (_options.ConnectorId == ConnectorIdSource.ResourceId || connectorId.StartsWith('/'))
        {
            return ResourceIdentifier.TryParse(connectorId, out var parsed) ? parsed : throw new ArgumentException($"'{connectorId}' is not an ARM resource id.", nameof(connectorId));
        }

        if (_knownSites.TryGetValue(connectorId, out var known))
        {
            return new ResourceIdentifier(known);
        }

        return _options.ResourceGroup is null
            ? null
            : new ResourceIdentifier($"{_scope}/providers/Microsoft.Web/sites/{connectorId}");
    }

    private bool IsConnector(SiteInfo site)
    {
        if (!site.IsFunctionApp)
        {
            return false;
        }

        if (_options.RequiredTagName is null)
        {
            return true;
        }

        return site.Tags.TryGetValue(_options.RequiredTagName, out var value)
            && (_options.RequiredTagValue is null || string.Equals(value, _options.RequiredTagValue, StringComparison.Ordinal));
    }

    private ConnectorTarget ToTarget(SiteInfo site) =>
        new(_options.ConnectorId == ConnectorIdSource.ResourceId ? site.Id : site.Name, site.Id) { Tags = site.Tags };
}
