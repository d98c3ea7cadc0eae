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
/// Deploys a connector's package with Kudu zip deploy (<c>POST {scm}/api/zipdeploy?isAsync=true</c>), waits for
/// <c>/api/deployments/latest</c> to report success, and reads and writes <c>PROJECT_VERSION</c> through ARM.
/// </summary>
/// <remarks>
/// <para>The scm host is read from the site's <c>properties.hostNameSslStates[hostType=Repository]</c> (cached per site).
/// Kudu calls use a token for <see cref="KuduDeployerOptions.ScmScope"/>, ARM calls one for <see cref="AppServiceOptions.ArmScope"/>.</para>
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
        _scm = AppServiceClientOptions.BuildPipeline(_options, credential, _options.ScmScope);
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
            try
            {
                var scm = await GetScmBaseAsync(siteId, connector, cancellationToken).ConfigureAwait(false);
                var statusUri = await StartZipDeployAsync(scm, connector, package, cancellationToken).ConfigureAwait(false);
                var acceptedMs = (long)Time.GetElapsedTime(started).TotalMilliseconds;
                Log.ZipDeployAccepted(Logger, connector.Id, package.Build, acceptedMs);
                await WaitForSuccessAsync(statusUri, connector, package.Build, cancellationToken).ConfigureAwait(false);
            }
            catch (ConnectorNotFoundException)
            {
                _scmBases.TryRemove(siteId.ToString(), out _);
                throw;
            }
            catch (Exception ex) when (ServiceFailures.IsServiceFailure(ex, cancellationToken))
            {
                // A transport failure may mean the cached scm host is stale: read it again next time.
                _scmBases.TryRemove(siteId.ToString(), out _);
                var timeouts = ServiceFailures.IsTimeout(ex)
                    ? $" UploadTimeout is {_options.UploadTimeout} per upload try, NetworkTimeout {_options.NetworkTimeout} per other request."
                    : string.Empty;
                throw new DeploymentFailedException(
                    connector.Id,
                    $"Deploying build {package.Build} to connector '{connector.Id}' failed: {ServiceFailures.Describe(ex)}.{timeouts}",
                    ex);
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

    private async Task<Uri> StartZipDeployAsync(Uri scm, ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken)
    {
        var uri = new Uri(scm, "api/zipdeploy?isAsync=true");
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
                    return StatusUri(scm, response);
                case 404:
                    throw new ConnectorNotFoundException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' answered 404 to the zip deploy: the Function app is gone.",
                        new RequestFailedException(response));
                case 409 when conflicts < _options.ConflictRetryLimit:
                    var delay = ConflictDelay(conflicts);
                    Log.ZipDeployConflict(Logger, connector.Id, conflicts + 1, _options.ConflictRetryLimit, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, Time, cancellationToken).ConfigureAwait(false);
                    continue;
                case 409:
                    throw new DeploymentFailedException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' still reports another deployment in progress (409) after {_options.ConflictRetryLimit} retries (ConflictRetryLimit).",
                        new RequestFailedException(response));
                default:
                    throw new DeploymentFailedException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' refused the zip deploy of build {package.Build}: {response.Status} {response.ReasonPhrase}.",
                        new RequestFailedException(response));
            }
        }
    }

    private TimeSpan ConflictDelay(int conflicts) =>
        _options.ConflictRetryDelay * Math.Pow(2, Math.Min(conflicts, 3));

    // Follow Location only on the scm host itself: the bearer token goes wherever the request goes.
    private static Uri StatusUri(Uri scm, Response response)
    {
        if (response.Headers.TryGetValue("Location", out var location)
            && Uri.TryCreate(scm, location, out var uri)
            && uri.Scheme == Uri.UriSchemeHttps
            && string.Equals(uri.Authority, scm.Authority, StringComparison.OrdinalIgnoreCase)
            && uri.AbsolutePath.StartsWith("/api/deployments/", StringComparison.OrdinalIgnoreCase))
        {
            return uri;
        }

        return new Uri(scm, "api/deployments/latest");
    }

    private async Task WaitForSuccessAsync(Uri statusUri, ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken)
    {
        var accepted = Time.GetTimestamp();
        while (true)
        {
            await Task.Delay(_options.PollInterval, Time, cancellationToken).ConfigureAwait(false);
            if (Time.GetElapsedTime(accepted) > _options.DeploymentTimeout)
            {
                throw new DeploymentFailedException(
                    connector.Id,
                    $"The deployment of build {build} to connector '{connector.Id}' did not finish within {_options.DeploymentTimeout} (DeploymentTimeout).");
            }

            using var message = _scm.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(statusUri);
            message.Request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
            await _scm.SendAsync(message, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
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

                    switch (result.Status)
                    {
                        case KuduDeployStatus.Success:
                            return;
                        case KuduDeployStatus.Pending:
                        case KuduDeployStatus.Building:
                        case KuduDeployStatus.Deploying:
                            continue;
                        default:
                            throw new DeploymentFailedException(connector.Id, result.Describe(connector.Id, build));
                    }

                case 404:
                    throw new ConnectorNotFoundException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' answered 404 while its deployment ran: the Function app is gone.",
                        new RequestFailedException(response));
                case 401:
                case 403:
                case 429:
                    // 429 already waited out Retry-After MaxRetries times in the pipeline; never swallow it.
                    throw new DeploymentFailedException(
                        connector.Id,
                        $"The scm site of connector '{connector.Id}' answered {response.Status} {response.ReasonPhrase} while the deployment of build {build} was polled.",
                        new RequestFailedException(response));
                default:
                    // 5xx and gateway pages while the scm site restarts: keep polling until the deadline.
                    Log.DeploymentStatusUnreadable(Logger, connector.Id, response.Status);
                    continue;
            }
        }
    }
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
        return $"The deployment {Id ?? "(no id)"} of build {build} to connector '{connectorId}' ended with status {status}{text}.";
    }
}
