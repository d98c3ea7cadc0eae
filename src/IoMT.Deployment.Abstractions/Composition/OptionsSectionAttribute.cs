namespace IoMT.Deployment.Composition;

/// <summary>
/// Names the configuration section an options class binds to by convention (its <c>SectionName</c>, such as
/// <c>IoMTDeployment:Kudu</c>), so that <see cref="DeploymentOptionsValidation"/> names every invalid setting by its full
/// key: a DataAnnotations message written as <c>"{0} must be between 1 and 50."</c> reads
/// <c>IoMTDeployment:Kudu:MaxRetries must be between 1 and 50.</c>, and an
/// <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/> names its keys with
/// <see cref="DeploymentOptionsValidation.Key(System.ComponentModel.DataAnnotations.ValidationContext, string)"/>. Attributes on a
/// base class shared by several options classes thus name each class's own section. A host that binds the options from a
/// section of its own says so with <c>UseOptionsSection&lt;TOptions&gt;(section)</c> on the builder, and validation
/// names keys under that section instead (<see cref="OptionsSection{TOptions}"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class OptionsSectionAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="OptionsSectionAttribute"/> class.</summary>
    /// <param name="name">The section, such as <c>IoMTDeployment:Kudu</c>.</param>
    public OptionsSectionAttribute(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>Gets the section, such as <c>IoMTDeployment:Kudu</c>.</summary>
    public string Name { get; }
}
