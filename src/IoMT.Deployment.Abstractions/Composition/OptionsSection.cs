namespace IoMT.Deployment.Composition;

/// <summary>
/// The configuration section a host binds <typeparamref name="TOptions"/> from, when it is not the convention section
/// the options class names with <see cref="OptionsSectionAttribute"/>: registered by
/// <c>UseOptionsSection&lt;TOptions&gt;(section)</c> on the builder, and read by the options' validators so that every
/// failure names the key the host reads (<c>Azure:Arm:PollInterval …</c> rather than <c>IoMTDeployment:Kudu:PollInterval …</c>).
/// A later <c>UseOptionsSection</c> call replaces the registration: there is at most one per options type.
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
public sealed class OptionsSection<TOptions>
    where TOptions : class
{
    /// <summary>Initializes a new instance of the <see cref="OptionsSection{TOptions}"/> class.</summary>
    /// <param name="name">The section, such as <c>Azure:Arm</c>.</param>
    public OptionsSection(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>Gets the section, such as <c>Azure:Arm</c>.</summary>
    public string Name { get; }
}
