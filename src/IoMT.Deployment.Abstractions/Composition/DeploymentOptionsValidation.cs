using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Composition;

/// <summary>
/// Validates options the same way whether they come from DI (<see cref="DeploymentOptionsValidator{TOptions}"/>) or are
/// passed to an adapter's constructor: by their DataAnnotations and <see cref="IValidatableObject"/>, each failure the
/// message the options class wrote, with nothing added around it.
/// </summary>
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
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results
            .Select(r => r.ErrorMessage ?? $"{typeof(TOptions).Name}.{string.Join(", ", r.MemberNames)} is invalid.")
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }
}
