using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Composition;

/// <summary>
/// The validator every package registers for its options (through <c>AddValidatedOptions</c>): DataAnnotations and
/// <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/> through
/// <see cref="DeploymentOptionsValidation.Failures{TOptions}(TOptions)"/>, the same messages as an adapter's constructor
/// gives, each naming the setting by its configuration key (<see cref="OptionsSectionAttribute"/>).
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
public sealed class DeploymentOptionsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = DeploymentOptionsValidation.Failures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
