using Azure.Core;
using IoMT.Deployment;
using IoMT.Deployment.Composition;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The composition every IoMT.Deployment package shares: the Azure credential set once on the builder, options
/// registered and validated one way, and a seam pointed at an adapter one way.
/// </summary>
/// <remarks>
/// The convention across the packages: extensions of <see cref="IServiceCollection"/> live in
/// <c>{Product}ServiceCollectionExtensions</c> (only <c>AddIoMTDeployment</c>); extensions of
/// <see cref="IIoMTDeploymentBuilder"/> live in <c>{Area}DeploymentBuilderExtensions</c> (<c>Blob…</c>, <c>Cosmos…</c>,
/// <c>Kudu…</c>, <c>Local…</c>), all in this namespace. Adapter methods are named <c>Add{Adapter}</c>; they replace the
/// seam's earlier registration, may be called more than once, and validate their options at start-up.
/// </remarks>
public static class IoMTDeploymentBuilderExtensions
{
    /// <summary>
    /// Sets the Azure credential every adapter of this host uses (blob storage reached by URI, Cosmos DB without an
    /// account key, ARM and Kudu), the way <c>Microsoft.Extensions.Azure</c>'s <c>UseCredential</c> does. No adapter
    /// falls back to a credential of its own: an adapter that needs one when none is set fails at start-up with a message
    /// naming this method. A later call replaces the credential.
    /// </summary>
    /// <param name="builder">The builder from <c>services.AddIoMTDeployment()</c>.</param>
    /// <param name="credential">The credential, for example a <c>DefaultAzureCredential</c> or a <c>ManagedIdentityCredential</c>.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder UseCredential(this IIoMTDeploymentBuilder builder, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(credential);
        builder.Services.Replace(ServiceDescriptor.Singleton(credential));
        return builder;
    }

    /// <summary>Sets the Azure credential every adapter uses, built when first needed from the service provider.</summary>
    /// <param name="builder">The builder from <c>services.AddIoMTDeployment()</c>.</param>
    /// <param name="factory">Builds the credential; called once.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder UseCredential(this IIoMTDeploymentBuilder builder, Func<IServiceProvider, TokenCredential> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }

    /// <summary>
    /// Registers <typeparamref name="TOptions"/> with the configuration callback, validated at start-up and when first
    /// resolved by its DataAnnotations and <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/>, with
    /// one validator however often it is called. Each failure reads as the message the options class wrote, naming the
    /// setting by its configuration key: under the section of <see cref="UseOptionsSection{TOptions}(IIoMTDeploymentBuilder, string)"/>
    /// when the host named one, else under the options class's own (<see cref="OptionsSectionAttribute"/>).
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">The configuration callback, or <see langword="null"/>.</param>
    /// <returns>The options builder, to add more configuration.</returns>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IIoMTDeploymentBuilder builder, Action<TOptions>? configure = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<TOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, DeploymentOptionsValidator<TOptions>>());
        return options.ValidateOnStart();
    }

    /// <summary>
    /// Registers <typeparamref name="TOptions"/> as <see cref="AddValidatedOptions{TOptions}(IIoMTDeploymentBuilder, Action{TOptions}?)"/>
    /// does, plus a validator of the adapter's own for rules across settings (registered once).
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <typeparam name="TValidator">The adapter's validator.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">The configuration callback, or <see langword="null"/>.</param>
    /// <returns>The options builder.</returns>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IIoMTDeploymentBuilder builder, Action<TOptions>? configure = null)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        var options = builder.AddValidatedOptions(configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return options;
    }

    /// <summary>
    /// Says that the host binds <typeparamref name="TOptions"/> from <paramref name="section"/> rather than from the
    /// options class's convention section (<see cref="OptionsSectionAttribute"/>): validation failures then name keys
    /// under it, in the DataAnnotations messages, the <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/>
    /// rules and the adapters' own validators alike (<c>Azure:Arm:PollInterval must be …</c> for a host that binds the
    /// Kudu deployer's options from <c>Azure:Arm</c>). It binds nothing: the host still binds the section in its
    /// configuration callback. May be called before or after the adapter is added; a later call replaces the section.
    /// An adapter's constructor, given options without dependency injection, still names the convention section.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="section">The configuration section the host binds <typeparamref name="TOptions"/> from, such as <c>Azure:Arm</c>.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder UseOptionsSection<TOptions>(this IIoMTDeploymentBuilder builder, string section)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        // One registration per options type: a later call replaces the earlier one, so readers take the single instance.
        builder.Services.RemoveAll<OptionsSection<TOptions>>();
        builder.Services.AddSingleton(new OptionsSection<TOptions>(section));
        return builder;
    }

    /// <summary>
    /// Declares that the adapter configured by <typeparamref name="TOptions"/> needs the credential of
    /// <see cref="UseCredential(IIoMTDeploymentBuilder, TokenCredential)"/>: start-up fails, naming
    /// <paramref name="requiredBy"/> and the call to make, when none is set.
    /// </summary>
    /// <typeparam name="TOptions">The adapter's options type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="requiredBy">The adapter method, for the message (e.g. <c>AddKuduDeployer</c>).</param>
    /// <param name="when">When the adapter needs it (e.g. no account key set), or <see langword="null"/> for always.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder RequireCredential<TOptions>(this IIoMTDeploymentBuilder builder, string requiredBy, Func<TOptions, bool>? when = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(requiredBy);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, CredentialRequirement<TOptions>>(
            sp => new CredentialRequirement<TOptions>(sp.GetRequiredService<IServiceProviderIsService>(), requiredBy, when)));
        builder.Services.AddOptions<TOptions>().ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// Points <typeparamref name="TService"/> at <typeparamref name="TImplementation"/>, removing any earlier
    /// registration of the seam (such as the core's local defaults), so the adapter wins whatever the order of calls.
    /// The implementation is registered once, as a singleton, with <paramref name="factory"/> or by its constructor.
    /// </summary>
    /// <typeparam name="TService">The seam.</typeparam>
    /// <typeparam name="TImplementation">The adapter.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Builds the adapter, or <see langword="null"/> to build it by its constructor.</param>
    /// <returns>The builder.</returns>
    public static IIoMTDeploymentBuilder ReplaceSeam<TService, TImplementation>(this IIoMTDeploymentBuilder builder, Func<IServiceProvider, TImplementation>? factory = null)
        where TService : class
        where TImplementation : class, TService
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (factory is null)
        {
            builder.Services.TryAddSingleton<TImplementation>();
        }
        else
        {
            builder.Services.TryAddSingleton(factory);
        }

        builder.Services.RemoveAll<TService>();
        builder.Services.AddSingleton<TService>(static sp => sp.GetRequiredService<TImplementation>());
        return builder;
    }

    /// <summary>Gets the credential set with <see cref="UseCredential(IIoMTDeploymentBuilder, TokenCredential)"/>.</summary>
    /// <param name="services">The service provider.</param>
    /// <param name="requiredBy">The adapter method that needs it, for the message.</param>
    /// <returns>The credential.</returns>
    /// <exception cref="InvalidOperationException">No credential is set; the message names the call to make.</exception>
    public static TokenCredential GetDeploymentCredential(this IServiceProvider services, string requiredBy)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService<TokenCredential>() ?? throw new InvalidOperationException(CredentialRequirement<object>.Message(requiredBy));
    }
}
