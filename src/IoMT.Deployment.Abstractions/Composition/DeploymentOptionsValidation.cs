using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Composition;

/// <summary>
/// Validates options the same way whether they come from DI (<see cref="DeploymentOptionsValidator{TOptions}"/>) or are
/// passed to an adapter's constructor: by their DataAnnotations and <see cref="IValidatableObject"/>, each failure naming
/// the setting by its configuration key (<c>IoMTDeployment:Kudu:PollInterval must be between …</c>).
/// </summary>
/// <remarks>
/// The key is a section, a colon and the member. The section is the one the host binds the options from, when it said so
/// with <c>UseOptionsSection&lt;TOptions&gt;(section)</c> on the builder (<see cref="OptionsSection{TOptions}"/>: the
/// validator passes it to <see cref="Failures{TOptions}(TOptions, string?)"/>), else the one the options type names with
/// <see cref="OptionsSectionAttribute"/>. Each member is validated on its own with that key as its display name, so a
/// DataAnnotations message written as <c>"{0} is required."</c> names the key whichever options class inherited the
/// attribute; an <see cref="IValidatableObject"/> (run, as <see cref="Validator.TryValidateObject(object, ValidationContext, ICollection{ValidationResult}?, bool)"/>
/// does, only when every member is valid) names its keys with <see cref="Key(ValidationContext, string)"/>, which reads
/// the same section from its <see cref="ValidationContext"/>.
/// </remarks>
public static class DeploymentOptionsValidation
{
    // The ValidationContext.Items entry that carries the section to IValidatableObject rules.
    private static readonly object SectionItem = new();

    /// <summary>
    /// Throws when <paramref name="options"/> are invalid, listing every invalid setting by its key in the section the
    /// options type names (<see cref="OptionsSectionAttribute"/>): for an adapter's constructor, with no host to say otherwise.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="options">The options.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public static void ThrowIfInvalid<TOptions>(TOptions options)
        where TOptions : class
    {
        var failures = Failures(options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), failures);
        }
    }

    /// <summary>Lists the failures of <paramref name="options"/>, empty when they are valid, naming keys in the section the options type names.</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="options">The options.</param>
    /// <returns>One message per invalid setting.</returns>
    public static IReadOnlyList<string> Failures<TOptions>(TOptions options)
        where TOptions : class => Failures(options, section: null);

    /// <summary>Lists the failures of <paramref name="options"/>, empty when they are valid, naming keys in <paramref name="section"/>.</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="options">The options.</param>
    /// <param name="section">
    /// The section the host binds the options from (such as <c>Azure:Arm</c>), or <see langword="null"/> for the one the
    /// options type names with <see cref="OptionsSectionAttribute"/>.
    /// </param>
    /// <returns>One message per invalid setting.</returns>
    public static IReadOnlyList<string> Failures<TOptions>(TOptions options, string? section)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        section ??= SectionOf(options.GetType());
        var results = new List<ValidationResult>();
        foreach (PropertyDescriptor property in TypeDescriptor.GetProperties(options))
        {
            var member = new ValidationContext(options) { MemberName = property.Name, DisplayName = Join(section, property.Name) };
            Validator.TryValidateProperty(property.GetValue(options), member, results);
        }

        if (results.Count == 0)
        {
            // The members are valid: the type's own rules (its attributes, then IValidatableObject), as TryValidateObject runs them.
            var items = section is null ? null : new Dictionary<object, object?> { [SectionItem] = section };
            Validator.TryValidateObject(options, new ValidationContext(options, serviceProvider: null, items), results, validateAllProperties: false);
        }

        return results
            .Select(r => r.ErrorMessage ?? $"{Join(section, r.MemberNames.FirstOrDefault() ?? options.GetType().Name)} is invalid.")
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Gets the configuration key of a setting of the options an <see cref="IValidatableObject"/> rule validates: the
    /// section <see cref="Failures{TOptions}(TOptions, string?)"/> validates them in (the host's, when it named one), else
    /// the one the options type names with <see cref="OptionsSectionAttribute"/>; a colon; <paramref name="member"/>.
    /// </summary>
    /// <param name="context">The context the rule was given.</param>
    /// <param name="member">The setting, such as <c>ArmEndpoint</c>, or a path below it, such as <c>AppIds:c1</c>.</param>
    /// <returns>The key, such as <c>Azure:Arm:ArmEndpoint</c> or <c>IoMTDeployment:Kudu:ArmEndpoint</c>.</returns>
    public static string Key(ValidationContext context, string member)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(member);
        var section = context.Items.TryGetValue(SectionItem, out var named) && named is string host
            ? host
            : SectionOf(context.ObjectInstance.GetType());
        return Join(section, member);
    }

    /// <summary>
    /// Gets the configuration key of a setting of <paramref name="options"/>: <paramref name="section"/>, or when
    /// <see langword="null"/> the section its type names with <see cref="OptionsSectionAttribute"/>; a colon;
    /// <paramref name="member"/>. <paramref name="member"/> alone when there is no section. For an adapter's constructor
    /// (no section) and an adapter's own <see cref="IValidateOptions{TOptions}"/> (the host's section of
    /// <see cref="OptionsSection{TOptions}"/>, if any); an <see cref="IValidatableObject"/> uses <see cref="Key(ValidationContext, string)"/>.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <param name="member">The setting, such as <c>ArmEndpoint</c>, or a path below it, such as <c>AppIds:c1</c>.</param>
    /// <param name="section">The section the host binds the options from, or <see langword="null"/> for the type's own.</param>
    /// <returns>The key, such as <c>IoMTDeployment:Kudu:ArmEndpoint</c>.</returns>
    public static string Key(object options, string member, string? section = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Join(section ?? SectionOf(options.GetType()), member);
    }

    private static string? SectionOf(Type optionsType) => optionsType.GetCustomAttribute<OptionsSectionAttribute>(inherit: true)?.Name;

    private static string Join(string? section, string member) => section is null ? member : $"{section}:{member}";
}
