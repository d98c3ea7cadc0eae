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
/// The key is the section the options type names with <see cref="OptionsSectionAttribute"/>, a colon and the member. Each
/// member is validated on its own with that key as its display name, so a DataAnnotations message written as
/// <c>"{0} is required."</c> names the key whichever options class inherited the attribute; an
/// <see cref="IValidatableObject"/> (run, as <see cref="Validator.TryValidateObject(object, ValidationContext, ICollection{ValidationResult}?, bool)"/>
/// does, only when every member is valid) names its keys with <see cref="Key(object, string)"/>.
/// </remarks>
public static class DeploymentOptionsValidation
{
    /// <summary>Throws when <paramref name="options"/> are invalid, listing every invalid setting.</summary>
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

    /// <summary>Lists the failures of <paramref name="options"/>, empty when they are valid.</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="options">The options.</param>
    /// <returns>One message per invalid setting.</returns>
    public static IReadOnlyList<string> Failures<TOptions>(TOptions options)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var section = SectionOf(options.GetType());
        var results = new List<ValidationResult>();
        foreach (PropertyDescriptor property in TypeDescriptor.GetProperties(options))
        {
            var member = new ValidationContext(options) { MemberName = property.Name, DisplayName = Key(section, property.Name) };
            Validator.TryValidateProperty(property.GetValue(options), member, results);
        }

        if (results.Count == 0)
        {
            // The members are valid: the type's own rules (its attributes, then IValidatableObject), as TryValidateObject runs them.
            Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: false);
        }

        return results
            .Select(r => r.ErrorMessage ?? $"{Key(section, r.MemberNames.FirstOrDefault() ?? options.GetType().Name)} is invalid.")
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Gets the configuration key of a setting of <paramref name="options"/>: the section its type names with
    /// <see cref="OptionsSectionAttribute"/>, a colon and <paramref name="member"/>; <paramref name="member"/> alone when
    /// the type names no section.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <param name="member">The setting, such as <c>ArmEndpoint</c>, or a path below it, such as <c>AppIds:c1</c>.</param>
    /// <returns>The key, such as <c>IoMTDeployment:Kudu:ArmEndpoint</c>.</returns>
    public static string Key(object options, string member)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(member);
        return Key(SectionOf(options.GetType()), member);
    }

    private static string? SectionOf(Type optionsType) => optionsType.GetCustomAttribute<OptionsSectionAttribute>(inherit: true)?.Name;

    private static string Key(string? section, string member) => section is null ? member : $"{section}:{member}";
}
