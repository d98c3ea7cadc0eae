using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Core;
using IoMT.Deployment.Composition;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Kudu;

/// <summary>Options of the Functions host status signal (<c>AddFunctionsHostStatusSignal</c>).</summary>
/// <remarks>
/// <see cref="AppServiceOptions.ApiVersion"/> is the Microsoft.Web version of the status read (<c>2024-04-01</c>).
/// A health read is not worth a long wait: the retries default to 2 and the network timeout to 30 seconds; a read that
/// still fails is no data, which pauses the rollout rather than judging it.
/// </remarks>
[OptionsSection(SectionName)]
public sealed class FunctionsHostStatusSignalOptions : AppServiceOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Gates:HostStatus";

    /// <summary>Creates the options with the signal's defaults.</summary>
    public FunctionsHostStatusSignalOptions()
    {
        MaxRetries = 2;
        NetworkTimeout = TimeSpan.FromSeconds(30);
    }
}

/// <summary>
/// A health signal from the Functions host's own status, read through ARM
/// (<c>GET {arm}{siteId}/host/default/properties/status?api-version=…</c>): <c>properties.state</c> <c>Running</c> is
/// healthy; <c>Error</c> or <c>Offline</c> unhealthy, with <c>properties.errors</c> as the reason; any other state
/// (<c>Default</c>, <c>Starting</c>, <c>Initialized</c>, <c>Stopping</c>, …), a site or host not found, and every failure of
/// the read itself (429, 5xx, 401/403, no answer, a body that is not the status) are no data, with the reason.
/// No function key is needed or read. It judges the host now, at the gate's evaluation, not the window.
/// </summary>
public sealed class FunctionsHostStatusSignal : IConnectorHealthSignal
{
    private readonly AppServiceArmClient _arm;
    private readonly string _apiVersion;
    private readonly ILogger _logger;

    /// <summary>Creates the signal.</summary>
    /// <param name="options">The options.</param>
    /// <param name="credential">The ARM credential.</param>
    /// <param name="timeProvider">The clock of retry delays; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public FunctionsHostStatusSignal(IOptions<FunctionsHostStatusSignalOptions> options, TokenCredential credential, TimeProvider? timeProvider = null, ILogger<FunctionsHostStatusSignal>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        DeploymentOptionsValidation.ThrowIfInvalid(options.Value);
        _arm = new AppServiceArmClient(options.Value, credential, timeProvider ?? TimeProvider.System);
        _apiVersion = options.Value.ApiVersion;
        _logger = logger ?? NullLogger<FunctionsHostStatusSignal>.Instance;
    }

    /// <inheritdoc/>
    public string Name => "functions-host-status";

    /// <inheritdoc/>
    public async ValueTask<ConnectorHealth> GetHealthAsync(HealthQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var connector = query.Connector;
        if (!HealthReads.TryParseSite(connector, out var siteId, out var problem))
        {
            return HealthReads.NoData(_logger, Name, connector, problem);
        }

        try
        {
            using var message = await _arm.GetAsync(siteId.ToString(), "/host/default/properties/status", "api-version=" + Uri.EscapeDataString(_apiVersion), cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            if (response.Status == 404)
            {
                return HealthReads.NoData(_logger, Name, connector, "the site or its Functions host was not found (404)");
            }

            if (response.IsError)
            {
                return HealthReads.NoData(_logger, Name, connector, HealthReads.DescribeStatus(response));
            }

            return HealthReads.Report(_logger, Name, connector, Judge(response.Content.ToMemory()));
        }
        catch (Exception ex) when (HealthReads.IsReadFailure(ex, cancellationToken))
        {
            return HealthReads.NoData(_logger, Name, connector, HealthReads.Describe(ex));
        }
    }

    /// <summary>Judges a host status body.</summary>
    internal static ConnectorHealth Judge(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("properties", out var properties)
            || properties.ValueKind != JsonValueKind.Object
            || !properties.TryGetProperty("state", out var stateElement)
            || stateElement.ValueKind != JsonValueKind.String)
        {
            return new ConnectorHealth(HealthStatus.NoData, "the host status has no properties.state");
        }

        var state = stateElement.GetString()!;
        if (string.Equals(state, "Running", StringComparison.OrdinalIgnoreCase))
        {
            return ConnectorHealth.Healthy;
        }

        if (string.Equals(state, "Error", StringComparison.OrdinalIgnoreCase) || string.Equals(state, "Offline", StringComparison.OrdinalIgnoreCase))
        {
            var errors = new List<string>();
            if (properties.TryGetProperty("errors", out var errorsElement) && errorsElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var error in errorsElement.EnumerateArray())
                {
                    if (error.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(error.GetString()))
                    {
                        errors.Add(error.GetString()!);
                    }
                }
            }

            var reason = errors.Count == 0
                ? string.Create(CultureInfo.InvariantCulture, $"the Functions host is {state}")
                : string.Create(CultureInfo.InvariantCulture, $"the Functions host is {state}: {string.Join("; ", errors.Take(3))}");
            return new ConnectorHealth(HealthStatus.Unhealthy, HealthReads.Shorten(reason));
        }

        return new ConnectorHealth(HealthStatus.NoData, string.Create(CultureInfo.InvariantCulture, $"the Functions host is {state}, not yet Running"));
    }
}

/// <summary>What the Azure health signals share: the site id, failures as no data (logged), short reasons.</summary>
internal static class HealthReads
{
    private const int MaxReason = 300;

    public static bool TryParseSite(ConnectorTarget connector, out ResourceIdentifier siteId, out string problem)
    {
        try
        {
            siteId = SiteIds.Parse(connector);
            problem = string.Empty;
            return true;
        }
        catch (ArgumentException ex)
        {
            siteId = null!;
            problem = ex.Message;
            return false;
        }
    }

    public static ConnectorHealth NoData(ILogger logger, string signal, ConnectorTarget connector, string reason)
    {
        reason = Shorten(reason);
        Log.HealthSignalNoData(logger, signal, connector.Id, reason);
        return new ConnectorHealth(HealthStatus.NoData, reason);
    }

    /// <summary>Logs a judgement that is not healthy (no data: 4040, unhealthy: 4041) and returns it, its reason shortened.</summary>
    public static ConnectorHealth Report(ILogger logger, string signal, ConnectorTarget connector, ConnectorHealth health)
    {
        if (health.Status == HealthStatus.NoData)
        {
            return NoData(logger, signal, connector, health.Reason ?? "no data");
        }

        if (health.Status == HealthStatus.Unhealthy)
        {
            Log.HealthSignalUnhealthy(logger, signal, connector.Id, health.Reason ?? "unhealthy");
        }

        return health;
    }

    /// <summary>A read failure that is the signal's, not the caller's cancellation: an Azure.Core failure or a body that is not JSON.</summary>
    public static bool IsReadFailure(Exception ex, CancellationToken cancellationToken) =>
        IsUnexpectedAnswer(ex) || ServiceFailures.IsServiceFailure(ex, cancellationToken);

    public static string Describe(Exception ex) => IsUnexpectedAnswer(ex)
        ? "the answer is not the expected JSON"
        : "the read failed: " + ServiceFailures.Describe(ex);

    // Not JSON, or JSON of another shape (a property missing, a value of the wrong kind or format).
    private static bool IsUnexpectedAnswer(Exception ex) => ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException;

    /// <summary>Names an error status the way an operator reads it; never a header or a token.</summary>
    public static string DescribeStatus(Response response) => response.Status switch
    {
        429 => "throttled (429) after the client's retries",
        401 or 403 => string.Create(CultureInfo.InvariantCulture, $"access denied ({response.Status}): the identity needs read access to the site"),
        >= 500 => string.Create(CultureInfo.InvariantCulture, $"the service failed ({response.Status}) after the client's retries"),
        _ => string.Create(CultureInfo.InvariantCulture, $"the read was refused ({response.Status})"),
    };

    public static string Shorten(string text) => text.Length <= MaxReason ? text : text[..(MaxReason - 1)] + "…";
}
