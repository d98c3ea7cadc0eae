using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// Deploys a connector's package with Kudu zip deploy (<c>POST {scm}/api/zipdeploy?isAsync=true&amp;trackDeploymentId=true</c>),
/// waits for the deployment it started to report success (polling the <c>Location</c> Kudu answers, <c>/api/deployments/latest</c>),
/// and reads and writes <c>PROJECT_VERSION</c> through ARM.
/// </summary>
/// <remarks>
/// <para>The scm host is read from the site's <c>properties.hostNameSslStates[hostType=Repository]</c> (cached per site).
/// Kudu calls use a token for <see cref="KuduDeployerOptions.ScmScope"/>, ARM calls one for <see cref="AppServiceOptions.ArmScope"/>.</para>
/// <para>Which deployment is ours: Kudu names the deployment it started in the <c>SCM-DEPLOYMENT-ID</c> header (or in a
/// <c>Location</c> of <c>/api/deployments/{id}</c>). A status that names another deployment (a <c>latest</c> that still shows
/// the previous one) is not ours, and polling goes on until ours shows or <see cref="KuduDeployerOptions.DeploymentTimeout"/>
/// passes. When Kudu names no id, the status it answers is taken as ours.</para>
/// <para>Deleted or not is decided by ARM, never by the scm site alone: Kudu answers 404 on <c>/api/deployments/latest</c> for a
/// live app that has no deployment record, and a scm host can be unreachable for other reasons than a deletion. So a 404 from
/// the scm site, or a transport failure (connection refused, a name that no longer resolves, a timeout), is checked with a
/// <c>GET</c> of the site: ARM's 404 gives <see cref="ConnectorNotFoundException"/>; a site that ARM still has gives
/// <see cref="DeploymentFailedException"/> (the app is live and not on the build). A 404 from the status of a live app is polled
/// through up to <see cref="KuduDeployerOptions.MissingDeploymentLimit"/> times in a row first, since the record can show late.</para>
/// <para>Per app, the deployment and every settings write are serialized: <c>PROJECT_VERSION</c> is never written while
/// this deployer's deployment to that app runs (a settings change restarts the app and fails the deployment).</para>
/// <para>The package is streamed from <see cref="ArtifactPackage.OpenRead"/> (seekable, so a retried upload rewinds); its bytes are never copied.</para>
/// </remarks>
public sealed class KuduConnectorDeployer : AppServiceConnectorDeployer
{
    private readonly KuduDeployerOptions _options;
    private readonly HttpPipeline _scm;
    private readonly ConcurrentDictionary<string, Uri> _scmBases = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the deployer and its two pipelines (ARM and scm).</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The credential for both token scopes.</param>
    /// <param name="timeProvider">The clock for polling delays and the deadline; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    public KuduConnectorDeployer(
        IOptions<KuduDeployerOptions> options,
        TokenCredential credential,
        TimeProvider? timeProvider = null,
        ILogger<KuduConnectorDeployer>? logger = null)
        : base(ValueOf(options), credential, timeProvider, logger)
    {
        _options = options.Value;
        _scm = AppServiceClientOptions.BuildPipeline(_options, credential, _options.ScmScope, Time);
    }

    /// <inheritdoc/>
    public override async Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(package);
        var siteId = SiteIds.Parse(connector);
        var started = Time.GetTimestamp();
        Log.DeploymentStarting(Logger, connector.Id, package.Build, package.Length);

        using (await Settings.Gates.EnterAsync(siteId.ToString(), cancellationToken).ConfigureAwait(false))
        {
            var target = new DeploymentTarget(siteId, connector, package.Build);
            try
            {
                var scm = await GetScmBaseAsync(siteId, connector, cancellationToken).ConfigureAwait(false);
                try
                {
                    var accepted = await StartZipDeployAsync(scm, target, package, cancellationToken).ConfigureAwait(false);
                    var acceptedMs = (long)Time.GetElapsedTime(started).TotalMilliseconds;
                    Log.ZipDeployAccepted(Logger, connector.Id, package.Build, acceptedMs);
                    await WaitForSuccessAsync(accepted, target, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ServiceFailures.IsUnanswered(ex, cancellationToken))
                {
                    // No answer from the scm site: a deleted app's scm host stops resolving, but a live one can fail too.
                    var timeouts = ServiceFailures.IsTimeout(ex)
                        ? $" UploadTimeout is {_options.UploadTimeout} per upload try, NetworkTimeout {_options.NetworkTimeout} per other request."
                        : string.Empty;
                    throw await ConfirmThroughArmAsync(
                        target,
                        $"The scm site of connector '{connector.Id}' gave no answer while build {package.Build} was deployed ({ServiceFailures.Describe(ex)})",
                        ex,
                        timeouts,
                        ServiceFailures.KindOf(ex),
                        cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ConnectorNotFoundException)
            {
                _scmBases.TryRemove(siteId.ToString(), out _);
                throw;
            }
            catch (Exception ex) when (ServiceFailures.IsServiceFailure(ex, cancellationToken))
            {
                // A failure may mean the cached scm host is stale: read it again next time.
                _scmBases.TryRemove(siteId.ToString(), out _);
                throw ServiceFailures.Fail(connector.Id, $"Deploying build {package.Build} to connector '{connector.Id}' failed", ex);
            }
        }

        var elapsedMs = (long)Time.GetElapsedTime(started).TotalMilliseconds;
        Log.DeploymentSucceeded(Logger, connector.Id, package.Build, elapsedMs);
    }

    private async Task<Uri> GetScmBaseAsync(ResourceIdentifier siteId, ConnectorTarget connector, CancellationToken cancellationToken)
    {
        var key = siteId.ToString();
        if (_scmBases.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var site = await Settings.Arm.GetSiteAsync(siteId, connector.Id, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(site.RepositoryHostName)
            || !Uri.TryCreate("https://" + site.RepositoryHostName.Trim().TrimEnd('/') + "/", UriKind.Absolute, out var scm)
            || scm.AbsolutePath != "/")
        {
            throw new DeploymentFailedException(
                connector.Id,
                $"The Function app '{siteId.Name}' of connector '{connector.Id}' has no usable scm host (properties.hostNameSslStates[hostType=Repository]).");
        }

        Log.ScmHostResolved(Logger, connector.Id, scm.Authority);
        return _scmBases.GetOrAdd(key, scm);
    }

    private async Task<AcceptedDeployment> StartZipDeployAsync(Uri scm, DeploymentTarget target, ArtifactPackage package, CancellationToken cancellationToken)
    {
        var connector = target.Connector;

        // trackDeploymentId: Kudu names the deployment it starts (SCM-DEPLOYMENT-ID), so the status polled can be matched to it.
        var uri = new Uri(scm, "api/zipdeploy?isAsync=true&trackDeploymentId=true");
        for (var conflicts = 0; ; conflicts++)
        {
            using var message = _scm.CreateMessage();
            message.NetworkTimeout = _options.UploadTimeout;
            message.Request.Method = RequestMethod.Post;
            message.Request.Uri.Reset(uri);
            message.Request.Headers.SetValue(HttpHeader.Names.ContentType, "application/octet-stream");

            // Seekable and read-only over the package's one buffer: the pipeline rewinds it when it retries.
            message.Request.Content = RequestContent.Create(package.OpenRead());
            await _scm.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            switch (response.Status)
            {
                case 200:
                case 202:
                    return AcceptedDeployment.From(scm, response);
                case 404:
                    throw await ConfirmThroughArmAsync(
                        target,
                        $"The scm site of connector '{connector.Id}' answered 404 to the zip deploy of build {package.Build}",
                        new RequestFailedException(response),
                        string.Empty,
                        DeploymentFailureKind.Unknown,
                        cancellationToken).ConfigureAwait(false);
                case 409 when conflicts < _options.ConflictRetryLimit:
                    var delay = ConflictDelay(conflicts);
                    Log.ZipDeployConflict(Logger, connector.Id, conflicts + 1, _options.ConflictRetryLimit, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
                    continue;
                case 409:
                    throw new DeploymentFailedException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' still reports another deployment in progress (409) after {_options.ConflictRetryLimit} retries (ConflictRetryLimit).",
                        new RequestFailedException(response),
                        DeploymentFailureKind.Transient);
                default:
                    throw new DeploymentFailedException(
                        connector.Id,
                        Sentence.End($"The scm site of connector '{connector.Id}' refused the zip deploy of build {package.Build}: {response.Status} {response.ReasonPhrase}"),
                        new RequestFailedException(response),
                        ServiceFailures.KindOf(response.Status));
            }
        }
    }

    private TimeSpan ConflictDelay(int conflicts) =>
        _options.ConflictRetryDelay * Math.Pow(2, Math.Min(conflicts, 3));

    private async Task WaitForSuccessAsync(AcceptedDeployment accepted, DeploymentTarget target, CancellationToken cancellationToken)
    {
        var (connector, build) = (target.Connector, target.Build);
        var since = Time.GetTimestamp();
        var missing = 0;
        string? otherDeployment = null;
        while (true)
        {
            await Task.Delay(_options.PollInterval, Time, cancellationToken).ConfigureAwait(false);
            if (Time.GetElapsedTime(since) > _options.DeploymentTimeout)
            {
                var other = otherDeployment is null
                    ? string.Empty
                    : $" The status last named deployment {otherDeployment}, not {accepted.Id}, the one started.";
                throw new DeploymentFailedException(
                    connector.Id,
                    $"The deployment of build {build} to connector '{connector.Id}' did not finish within {_options.DeploymentTimeout} (DeploymentTimeout).{other}");
            }

            using var message = _scm.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(accepted.StatusUri);
            message.Request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
            await _scm.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            if (response.Status != 404)
            {
                missing = 0;
            }

            switch (response.Status)
            {
                case 202:
                    continue;
                case 200:
                    var result = DeployResult.TryParse(response.Content);
                    if (result is null)
                    {
                        // The scm site restarts after a deployment and answers pages that are not the status JSON.
                        Log.DeploymentStatusUnreadable(Logger, connector.Id, response.Status);
                        continue;
                    }

                    if (!accepted.IsSameDeployment(result.Id))
                    {
                        // "latest" can still name the previous deployment: its outcome is not ours.
                        otherDeployment = result.Id;
                        Log.OtherDeploymentPolled(Logger, connector.Id, result.Id!, accepted.Id!);
                        continue;
                    }

                    switch (result.Status)
                    {
                        case KuduDeployStatus.Success:
                            return;
                        case KuduDeployStatus.Pending:
                        case KuduDeployStatus.Building:
                        case KuduDeployStatus.Deploying:
                            continue;
                        default:
                            throw new DeploymentFailedException(connector.Id, result.Describe(connector.Id, build), kind: result.FailureKind);
                    }

                case 404:
                    // Kudu answers 404 for a live app without a deployment record too: ARM says whether the app is gone.
                    missing++;
                    var failure = await ConfirmThroughArmAsync(
                        target,
                        $"The scm site of connector '{connector.Id}' has no record of the deployment of build {build} (404 from the deployment status{(missing > 1 ? $", {missing} times in a row" : string.Empty)})",
                        new RequestFailedException(response),
                        $" MissingDeploymentLimit is {_options.MissingDeploymentLimit}.",
                        DeploymentFailureKind.Unknown,
                        cancellationToken).ConfigureAwait(false);
                    if (failure is ConnectorNotFoundException || missing > _options.MissingDeploymentLimit)
                    {
                        throw failure;
                    }

                    Log.DeploymentRecordMissing(Logger, connector.Id, missing, _options.MissingDeploymentLimit);
                    continue;
                case 401:
                case 403:
                case 429:
                    // 429 already waited out Retry-After MaxRetries times in the pipeline; never swallow it.
                    throw new DeploymentFailedException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' answered {response.Status} {response.ReasonPhrase} while the deployment of build {build} was polled.",
                        new RequestFailedException(response),
                        ServiceFailures.KindOf(response.Status));
                default:
                    // 5xx and gateway pages while the scm site restarts: keep polling until the deadline.
                    Log.DeploymentStatusUnreadable(Logger, connector.Id, response.Status);
                    continue;
            }
        }
    }

    /// <summary>
    /// What a 404 or no answer from the scm site means, as ARM tells: the site gone gives <see cref="ConnectorNotFoundException"/>;
    /// a site ARM still has gives <see cref="DeploymentFailedException"/> of <paramref name="liveKind"/>, one ARM cannot be asked about a transient one.
    /// </summary>
    private async Task<DeploymentException> ConfirmThroughArmAsync(
        DeploymentTarget target, string failure, Exception inner, string detail, DeploymentFailureKind liveKind, CancellationToken cancellationToken)
    {
        var (siteId, connector) = (target.SiteId, target.Connector);

        // Whatever ARM says, the cached scm host may be stale (a recreated app gets a new one): read it again next time.
        _scmBases.TryRemove(siteId.ToString(), out _);
        SiteInfo? site;
        try
        {
            site = await Settings.Arm.TryGetSiteAsync(siteId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ServiceFailures.IsServiceFailure(ex, cancellationToken))
        {
            return ServiceFailures.Fail(connector.Id, $"{failure}; whether the Function app '{siteId.Name}' still exists could not be read from ARM", ex, detail, inner);
        }

        if (site is null)
        {
            return new ConnectorNotFoundException(
                connector.Id,
                $"{failure}, and ARM answers 404 for the Function app '{siteId.Name}': it is gone.",
                inner);
        }

        return new DeploymentFailedException(
            connector.Id,
            $"{failure}, but ARM still has the Function app '{siteId.Name}': it is live, not deleted, and not on build {target.Build}.{detail}",
            inner,
            liveKind);
    }

    private sealed record DeploymentTarget(ResourceIdentifier SiteId, ConnectorTarget Connector, BuildNumber Build);
}

/// <summary>A zip deploy Kudu accepted: where to poll its status, and its id when Kudu named it.</summary>
/// <param name="StatusUri">The status to poll: the <c>Location</c> answered, on the scm host itself, or <c>/api/deployments/latest</c>.</param>
/// <param name="Id">The deployment's id, from <c>SCM-DEPLOYMENT-ID</c> or a <c>Location</c> of <c>/api/deployments/{id}</c>; <see langword="null"/> when Kudu named none.</param>
internal sealed record AcceptedDeployment(Uri StatusUri, string? Id)
{
    private const string DeploymentsPath = "/api/deployments/";

    /// <summary>Reads the status location and the deployment id from Kudu's answer to the zip deploy.</summary>
    public static AcceptedDeployment From(Uri scm, Response response)
    {
        // Follow Location only on the scm host itself: the bearer token goes wherever the request goes.
        var statusUri = new Uri(scm, "api/deployments/latest");
        string? id = null;
        if (response.Headers.TryGetValue("Location", out var location)
            && Uri.TryCreate(scm, location, out var uri)
            && uri.Scheme == Uri.UriSchemeHttps
            && string.Equals(uri.Authority, scm.Authority, StringComparison.OrdinalIgnoreCase)
            && uri.AbsolutePath.StartsWith(DeploymentsPath, StringComparison.OrdinalIgnoreCase))
        {
            statusUri = uri;
            var named = Uri.UnescapeDataString(uri.AbsolutePath[DeploymentsPath.Length..].TrimEnd('/'));
            if (named.Length > 0 && !named.Contains('/', StringComparison.Ordinal) && !string.Equals(named, "latest", StringComparison.OrdinalIgnoreCase))
            {
                id = named;
            }
        }

        if (response.Headers.TryGetValue("SCM-DEPLOYMENT-ID", out var header) && !string.IsNullOrWhiteSpace(header))
        {
            id = header.Trim();
        }

        return new AcceptedDeployment(statusUri, id);
    }

    /// <summary>Whether a status names this deployment; a status or an acceptance without an id cannot be told apart and counts as ours.</summary>
    public bool IsSameDeployment(string? polledId) =>
        Id is null || polledId is null || string.Equals(Id, polledId, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Kudu's <c>DeployStatus</c>.</summary>
internal enum KuduDeployStatus
{
    Cancelled = -1,
    Pending = 0,
    Building = 1,
    Deploying = 2,
    Failed = 3,
    Success = 4,
    Conflict = 5,
    PartialSuccess = 6,
}

/// <summary>The parts of Kudu's <c>DeployResult</c> the deployer reads.</summary>
internal sealed record DeployResult(int RawStatus, string? Id, string? StatusText, bool Complete)
{
    public KuduDeployStatus? Status => Enum.IsDefined((KuduDeployStatus)RawStatus) ? (KuduDeployStatus)RawStatus : null;

    /// <summary>
    /// Gets what a status other than Success is attributed to: Failed and PartialSuccess are the build's (the deployment ran),
    /// Conflict the platform's (another deployment took over); Cancelled and unknown statuses are not known.
    /// </summary>
    public DeploymentFailureKind FailureKind => Status switch
    {
        KuduDeployStatus.Failed or KuduDeployStatus.PartialSuccess => DeploymentFailureKind.BuildAttributable,
        KuduDeployStatus.Conflict => DeploymentFailureKind.Transient,
        _ => DeploymentFailureKind.Unknown,
    };

    /// <summary>Parses the JSON; <see langword="null"/> when the body is not a DeployResult (a restart page, say).</summary>
    public static DeployResult? TryParse(BinaryData? content)
    {
        if (content is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(content.ToMemory());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status))
            {
                return null;
            }

            int raw;
            if (status.ValueKind == JsonValueKind.Number && status.TryGetInt32(out var number))
            {
                raw = number;
            }
            else if (status.ValueKind == JsonValueKind.String && int.TryParse(status.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
            {
                raw = parsed;
            }
            else
            {
                // A status that is neither: an unknown status, which is a failure.
                raw = int.MinValue;
            }

            return new DeployResult(
                raw,
                root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
                root.TryGetProperty("status_text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null,
                root.TryGetProperty("complete", out var complete) && complete.ValueKind == JsonValueKind.True);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public string Describe(string connectorId, BuildNumber build)
    {
        var status = Status is { } known
            ? $"{(int)known} ({known})"
            : $"{(RawStatus == int.MinValue ? "unreadable" : RawStatus.ToString(CultureInfo.InvariantCulture))} (unknown; treated as a failure)";
        var text = string.IsNullOrWhiteSpace(StatusText) ? string.Empty : $": {StatusText}";
        return Sentence.End($"The deployment {Id ?? "(no id)"} of build {build} to connector '{connectorId}' ended with status {status}{text}");
    }
}
