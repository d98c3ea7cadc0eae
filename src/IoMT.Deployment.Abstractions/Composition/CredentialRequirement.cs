using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Composition;

/// <summary>Fails validation of an adapter's options when the adapter needs the shared credential and none is set.</summary>
internal sealed class CredentialRequirement<TOptions>(IServiceProviderIsService services, string requiredBy, Func<TOptions, bool>? when) : IValidateOptions<TOptions>
    where TOptions : class
{
    public static string Message(string requiredBy) =>
        $"{requiredBy} needs an Azure credential and none is set: call .UseCredential(credential) on the builder returned by AddIoMTDeployment() "
        + "(for example .UseCredential(new DefaultAzureCredential()), or a ManagedIdentityCredential in the worker).";

    public ValidateOptionsResult Validate(string? name, TOptions options) =>
        (when is null || when(options)) && !services.IsService(typeof(Azure.Core.TokenCredential))
            ? ValidateOptionsResult.Fail(Message(requiredBy))
            : ValidateOptionsResult.Success;
}
