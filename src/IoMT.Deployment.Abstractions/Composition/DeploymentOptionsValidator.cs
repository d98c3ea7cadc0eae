using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Composition;

/// <summary>
/// The validator every package registers for its options (through <c>AddValidatedOptions</c>): DataAnnotations and
/// <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/> through
/// <see cref="DeploymentOptionsValidation.Failures{TOptions}(TOptions, string?)"/>, the same messages as an adapter's
/// constructor gives, each naming the setting by its configuration key: in the section the host binds the options from
/// (<c>UseOptionsSection&lt;TOptions&gt;(section)</c>), else in the one the options class names
/// (<see cref="OptionsSectionAttribute"/>).
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
public sealed class DeploymentOptionsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class
{
    private readonly string? _section;

    /// <summary>Initializes a new instance of the <see cref="DeploymentOptionsValidator{TOptions}"/> class.</summary>
    /// <param name="section">The section the host named for <typeparamref name="TOptions"/>, or <see langword="null"/> for the options class's own.</param>
    public DeploymentOptionsValidator(OptionsSection<TOptions>? section = null)
    {
        _section = section?.Name;
    }

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = DeploymentOptionsValidation.Failures(options, _section);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
