using IoMT.Deployment.Composition;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cosmos;

/// <summary>
/// Checks what DataAnnotations cannot: how the account is reached, and the inventory's queries. Messages name the
/// setting by its configuration key, as the annotations' do (in the host's section, when it named one with
/// <c>UseOptionsSection</c>); the account key is never repeated.
/// </summary>
/// <typeparam name="TOptions">The adapter's options.</typeparam>
internal sealed class CosmosOptionsValidator<TOptions>(IServiceProviderIsService services, OptionsSection<TOptions>? section = null) : IValidateOptions<TOptions>
    where TOptions : CosmosContainerOptions
{
    private readonly string? _section = section?.Name;

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string Key(string member) => DeploymentOptionsValidation.Key(options, member, _section);
        var failures = new List<string>();
        if (options.AccountEndpoint is null)
        {
            if (!services.IsService(typeof(CosmosClient)))
            {
                failures.Add($"{Key(nameof(options.AccountEndpoint))} is not set and no CosmosClient is registered in the service collection: set the endpoint (with an AccountKey, or the builder's UseCredential) or register a CosmosClient.");
            }

            if (options.AccountKey is not null)
            {
                failures.Add($"{Key(nameof(options.AccountKey))} needs {Key(nameof(options.AccountEndpoint))}.");
            }
        }
        else if (!options.AccountEndpoint.IsAbsoluteUri || (options.AccountEndpoint.Scheme != Uri.UriSchemeHttps && options.AccountEndpoint.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{Key(nameof(options.AccountEndpoint))} must be an absolute https:// (or, for a local server, http://) URI.");
        }

        if (options.AccountKey is not null && !IsBase64(options.AccountKey))
        {
            failures.Add($"{Key(nameof(options.AccountKey))} is not a base64 account key.");
        }

        if (options is CosmosConnectorInventoryOptions inventory)
        {
            if (inventory.ExistsQuery is { } exists && !exists.Contains("@id", StringComparison.Ordinal))
            {
                failures.Add($"{Key(nameof(inventory.ExistsQuery))} must use the parameter @id.");
            }

            if (inventory.Query is not null && string.IsNullOrWhiteSpace(inventory.Query))
            {
                failures.Add($"{Key(nameof(inventory.Query))} is empty.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsBase64(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        var buffer = new byte[(value.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(value, buffer, out _);
    }
}
