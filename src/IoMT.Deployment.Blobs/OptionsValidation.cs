using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Blobs;

/// <summary>
/// Validates the adapter's options from their DataAnnotations (and <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/>),
/// the same way whether they come from DI or are passed to a constructor. The messages name the setting by its
/// configuration path. (The options source generator is not used: its range check drops custom messages.)
/// </summary>
internal static class OptionsValidation
{
    /// <summary>The validator registered in DI; one instance type per options type, so TryAddEnumerable dedupes it.</summary>
    public static DataAnnotationValidateOptions<TOptions> Validator<TOptions>()
        where TOptions : class => new(Options.DefaultName);

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every invalid setting.</summary>
    public static void ThrowIfInvalid<TOptions>(TOptions options)
        where TOptions : class
    {
        var result = Validator<TOptions>().Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures);
        }
    }
}
