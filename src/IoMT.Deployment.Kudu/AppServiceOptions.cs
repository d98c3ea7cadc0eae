using System.ComponentModel.DataAnnotations;
using Azure.Core.Pipeline;
using IoMT.Deployment.Composition;
using static IoMT.Deployment.Composition.DeploymentOptionsValidation;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// How the App Service adapters reach Azure Resource Manager: endpoint, API version, token scope, retries and timeouts.
/// The base of <see cref="KuduDeployerOptions"/>, <see cref="RunFromPackageDeployerOptions"/> and
/// <see cref="ArmConnectorInventoryOptions"/>; each adapter builds its own pipeline from its own options once, at composition.
/// </summary>
public abstract class AppServiceOptions : IValidatableObject
{
    /// <summary>The Microsoft.Web API version the adapters speak, <c>2024-04-01</c>.</summary>
    public const string DefaultApiVersion = "2024-04-01";

    /// <summary>The token scope of Azure Resource Manager, <c>https://management.azure.com/.default</c>.</summary>
    public const string DefaultArmScope = "https://management.azure.com/.default";

    /// <summary>Gets or sets the Azure Resource Manager endpoint. Must be an absolute <c>https</c> URI.</summary>
    /// <value>The default is <c>https://management.azure.com</c>; sovereign clouds and test hosts override it.</value>
    [Required(ErrorMessage = "{0} is required (the Azure Resource Manager endpoint, e.g. https://management.azure.com).")]
    public Uri ArmEndpoint { get; set; } = new("https://management.azure.com");

    /// <summary>Gets or sets the Microsoft.Web API version used on every ARM call.</summary>
    /// <value>The default is <see cref="DefaultApiVersion"/>.</value>
    [Required(ErrorMessage = "{0} is required (the Microsoft.Web API version, e.g. 2024-04-01).")]
    [RegularExpression(@"^\d{4}-\d{2}-\d{2}(-preview)?$", ErrorMessage = "{0} must look like 2024-04-01 (optionally with -preview).")]
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>Gets or sets the token scope requested for ARM calls.</summary>
    /// <value>The default is <see cref="DefaultArmScope"/>.</value>
    [Required(ErrorMessage = "{0} is required (the ARM token scope, e.g. https://management.azure.com/.default).")]
    public string ArmScope { get; set; } = DefaultArmScope;

    /// <summary>
    /// Gets or sets how many times a request is retried after a transport error, a 408, a 429 or a 5xx answer.
    /// A 429 waits for the answer's <c>Retry-After</c>; when the retries are exhausted the failure surfaces. Every wait is on
    /// the adapter's <see cref="TimeProvider"/> (the one in DI, or the constructor's), so a host's clock governs retries too.
    /// </summary>
    /// <value>The default is 5.</value>
    [Range(0, 50, ErrorMessage = "{0} must be between 0 and 50.")]
    public int MaxRetries { get; set; } = 5;

    /// <summary>Gets or sets the first delay between retries; it grows exponentially, up to <see cref="MaxRetryDelay"/>, unless the server's <c>Retry-After</c> asks for longer.</summary>
    /// <value>The default is 0.8 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "{0} must be between 00:00:00 and 00:10:00.")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(0.8);

    /// <summary>Gets or sets the longest computed delay between retries (a server's <c>Retry-After</c> is honoured even when longer).</summary>
    /// <value>The default is 60 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "{0} must be between 00:00:00 and 01:00:00.")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets the time allowed for one try of an ARM or status request.</summary>
    /// <value>The default is 100 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00", ErrorMessage = "{0} must be between 00:00:00.001 and 01:00:00.")]
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Gets or sets the HTTP transport, or <see langword="null"/> for Azure.Core's default. Tests set a transport that
    /// trusts a loopback host's certificate.
    /// </summary>
    public HttpPipelineTransport? Transport { get; set; }

    /// <summary>
    /// Gets or sets the per-subscription ARM throttle every request to <see cref="ArmEndpoint"/> goes through, or
    /// <see langword="null"/> for none. <c>AddArmSubscriptionThrottle</c> sets the one shared instance on every App Service
    /// adapter's options; set it yourself only when composing without dependency injection.
    /// </summary>
    public ArmSubscriptionThrottle? SubscriptionThrottle { get; set; }

    /// <inheritdoc/>
    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ArmEndpoint is not null && (!ArmEndpoint.IsAbsoluteUri || ArmEndpoint.Scheme != Uri.UriSchemeHttps))
        {
            yield return new ValidationResult(
                $"{Key(validationContext, nameof(ArmEndpoint))} must be an absolute https URI (bearer tokens are only sent over TLS); got '{ArmEndpoint}'.",
                [nameof(ArmEndpoint)]);
        }

        if (MaxRetryDelay < RetryDelay)
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(MaxRetryDelay))} must not be shorter than {Key(validationContext, nameof(RetryDelay))}.", [nameof(MaxRetryDelay), nameof(RetryDelay)]);
        }
    }
}

/// <summary>Options of the Kudu zip-deploy deployer (<c>AddKuduDeployer</c>).</summary>
[OptionsSection(SectionName)]
public sealed class KuduDeployerOptions : AppServiceOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:Kudu";

    /// <summary>The token scope the scm (Kudu) site accepts, <c>https://management.core.windows.net/.default</c>.</summary>
    public const string DefaultScmScope = "https://management.core.windows.net/.default";

    /// <summary>Gets or sets the token scope requested for calls to the scm (Kudu) site. Kudu rejects tokens for <c>https://management.azure.com</c>.</summary>
    /// <value>The default is <see cref="DefaultScmScope"/>.</value>
    [Required(ErrorMessage = "{0} is required (the Kudu token scope, e.g. https://management.core.windows.net/.default).")]
    public string ScmScope { get; set; } = DefaultScmScope;

    /// <summary>Gets or sets the interval between two reads of <c>/api/deployments/latest</c>.</summary>
    /// <value>The default is 2 seconds, as the Azure CLI.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00", ErrorMessage = "{0} must be between 00:00:00.001 and 00:10:00.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long a deployment may run, from its acceptance, before it is reported failed.</summary>
    /// <value>The default is 15 minutes, as the Azure CLI.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00", ErrorMessage = "{0} must be between 00:00:00.001 and 1.00:00:00.")]
    public TimeSpan DeploymentTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Gets or sets how many <c>404</c>s in a row from the deployment status are polled through while ARM still has the site
    /// (Kudu answers 404 for an app without a deployment record, and a record can show late); one more is a failed deployment.
    /// A 404 for a site ARM no longer has is a deleted connector at once.
    /// </summary>
    /// <value>The default is 5.</value>
    [Range(0, 1000, ErrorMessage = "{0} must be between 0 and 1000.")]
    public int MissingDeploymentLimit { get; set; } = 5;

    /// <summary>Gets or sets how many times a zip deploy answered <c>409</c> (another deployment in progress) is sent again before the deployment is reported failed.</summary>
    /// <value>The default is 10.</value>
    [Range(0, 1000, ErrorMessage = "{0} must be between 0 and 1000.")]
    public int ConflictRetryLimit { get; set; } = 10;

    /// <summary>Gets or sets the first wait after a <c>409</c>; it doubles on every further conflict, up to eight times this value.</summary>
    /// <value>The default is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "{0} must be between 00:00:00 and 00:10:00.")]
    public TimeSpan ConflictRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the time allowed for one try of the zip upload; Azure.Core's default of 100 seconds is too short for large packages.</summary>
    /// <value>The default is 10 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "02:00:00", ErrorMessage = "{0} must be between 00:00:00.001 and 02:00:00.")]
    public TimeSpan UploadTimeout { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>Options of the Run-From-Package deployer (<c>AddRunFromPackageDeployer</c>).</summary>
[OptionsSection(SectionName)]
public sealed class RunFromPackageDeployerOptions : AppServiceOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:RunFromPackage";

    /// <summary>
    /// Gets or sets the resource id of the user-assigned managed identity the apps use to read the package blob
    /// (written to <c>WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID</c>), or <see langword="null"/> when the package URL
    /// needs none (the system-assigned identity, or a URL the app can read as is).
    /// </summary>
    public string? ManagedIdentityResourceId { get; set; }

    /// <inheritdoc/>
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        if (ManagedIdentityResourceId is not null && !ManagedIdentityResourceId.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult(
                $"{Key(validationContext, nameof(ManagedIdentityResourceId))} must be a resource id (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{{name}}) or null.",
                [nameof(ManagedIdentityResourceId)]);
        }
    }
}

/// <summary>What <see cref="ArmConnectorInventory"/> uses as a connector's id.</summary>
public enum ConnectorIdSource
{
    /// <summary>The Function app's name (unique across Azure, since it is the app's host name).</summary>
    SiteName,

    /// <summary>The Function app's full ARM resource id.</summary>
    ResourceId,
}

/// <summary>Options of the ARM connector inventory (<c>AddArmConnectorInventory</c>).</summary>
[OptionsSection(SectionName)]
public sealed class ArmConnectorInventoryOptions : AppServiceOptions
{
    /// <summary>The configuration section these options bind to by convention.</summary>
    public const string SectionName = "IoMTDeployment:ArmInventory";

    /// <summary>Gets or sets the subscription whose Function apps are the connectors.</summary>
    [Required(ErrorMessage = "{0} is required: the subscription whose Function apps are the connectors.")]
    public string? SubscriptionId { get; set; }

    /// <summary>Gets or sets the resource group to list, or <see langword="null"/> to list the whole subscription.</summary>
    public string? ResourceGroup { get; set; }

    /// <summary>Gets or sets the tag a Function app must carry to be a connector, or <see langword="null"/> to take every Function app.</summary>
    public string? RequiredTagName { get; set; }

    /// <summary>Gets or sets the value <see cref="RequiredTagName"/> must have, or <see langword="null"/> to accept any value.</summary>
    public string? RequiredTagValue { get; set; }

    /// <summary>Gets or sets what a connector's id is.</summary>
    /// <value>The default is <see cref="ConnectorIdSource.SiteName"/>.</value>
    public ConnectorIdSource ConnectorId { get; set; } = ConnectorIdSource.SiteName;

    /// <inheritdoc/>
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        if (SubscriptionId is not null && !Guid.TryParse(SubscriptionId, out _))
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(SubscriptionId))} must be a subscription GUID; got '{SubscriptionId}'.", [nameof(SubscriptionId)]);
        }

        if (ResourceGroup is not null && string.IsNullOrWhiteSpace(ResourceGroup))
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(ResourceGroup))} must be null (the whole subscription) or a resource group name.", [nameof(ResourceGroup)]);
        }

        if (RequiredTagValue is not null && RequiredTagName is null)
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(RequiredTagValue))} is set but {Key(validationContext, nameof(RequiredTagName))} is not.", [nameof(RequiredTagValue), nameof(RequiredTagName)]);
        }

        if (!Enum.IsDefined(ConnectorId))
        {
            yield return new ValidationResult($"{Key(validationContext, nameof(ConnectorId))} must be SiteName or ResourceId; got '{ConnectorId}'.", [nameof(ConnectorId)]);
        }
    }
}
