using System.ComponentModel.DataAnnotations;
using Azure.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace IoMT.Deployment.Tests;

/// <summary>The composition helpers every adapter package uses (IoMTDeploymentBuilderExtensions in the Abstractions).</summary>
public sealed class AdapterCompositionTests
{
    public sealed class SampleOptions
    {
        [Range(1, 10, ErrorMessage = "Sample:Count must be between 1 and 10.")]
        public int Count { get; set; } = 1;

        [Required(ErrorMessage = "Sample:Name is required.")]
        public string? Name { get; set; } = "a";
    }

    private sealed class SampleRule : IValidateOptions<SampleOptions>
    {
        public ValidateOptionsResult Validate(string? name, SampleOptions options) =>
            options.Name == "forbidden" ? ValidateOptionsResult.Fail("Sample:Name must not be 'forbidden'.") : ValidateOptionsResult.Success;
    }

    [Fact]
    public void Options_added_twice_are_validated_once_at_start_with_the_messages_the_options_wrote()
    {
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment();
        builder.AddValidatedOptions<SampleOptions, SampleRule>(o => o.Count = 0);
        builder.AddValidatedOptions<SampleOptions, SampleRule>(o => o.Name = null);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(["Sample:Count must be between 1 and 10.", "Sample:Name is required."], error.Failures.Order(StringComparer.Ordinal));
        Assert.Equal(2, services.Count(d => d.ServiceType == typeof(IValidateOptions<SampleOptions>)));
    }

    [Fact]
    public void An_adapter_rule_of_its_own_runs_beside_the_annotations()
    {
        var services = new ServiceCollection();
        services.AddIoMTDeployment().AddValidatedOptions<SampleOptions, SampleRule>(o => o.Name = "forbidden");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SampleOptions>>().Value);

        Assert.Equal(["Sample:Name must not be 'forbidden'."], error.Failures);
    }

    [Fact]
    public void Constructor_validation_gives_the_same_messages_as_start_up_validation()
    {
        var error = Assert.Throws<OptionsValidationException>(() => IoMT.Deployment.Composition.DeploymentOptionsValidation.ThrowIfInvalid(new SampleOptions { Count = 11 }));

        Assert.Equal(["Sample:Count must be between 1 and 10."], error.Failures);
    }

    public abstract class SharedOptions : IValidatableObject
    {
        [Range(1, 10, ErrorMessage = "{0} must be between 1 and 10.")]
        public int Count { get; set; } = 1;

        public int Limit { get; set; } = 5;

        public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
        {
            if (Limit < Count)
            {
                yield return new ValidationResult(
                    $"{IoMT.Deployment.Composition.DeploymentOptionsValidation.Key(validationContext, nameof(Limit))} must not be less than {IoMT.Deployment.Composition.DeploymentOptionsValidation.Key(validationContext, nameof(Count))}.",
                    [nameof(Limit)]);
            }
        }
    }

    [IoMT.Deployment.Composition.OptionsSection("Sample:First")]
    public sealed class FirstOptions : SharedOptions;

    [IoMT.Deployment.Composition.OptionsSection("Sample:Second")]
    public sealed class SecondOptions : SharedOptions;

    [Fact]
    public void Settings_of_a_shared_base_are_named_by_each_options_class_section_at_start_and_in_constructors_alike()
    {
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment();
        builder.AddValidatedOptions<FirstOptions>(o => o.Count = 11);
        builder.AddValidatedOptions<SecondOptions>(o => (o.Count, o.Limit) = (3, 2));
        using var provider = services.BuildServiceProvider();

        var first = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FirstOptions>>().Value);
        var second = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SecondOptions>>().Value);

        Assert.Equal(["Sample:First:Count must be between 1 and 10."], first.Failures);
        Assert.Equal(["Sample:Second:Limit must not be less than Sample:Second:Count."], second.Failures);
        Assert.Equal(first.Failures, Assert.Throws<OptionsValidationException>(() => IoMT.Deployment.Composition.DeploymentOptionsValidation.ThrowIfInvalid(new FirstOptions { Count = 11 })).Failures);
        Assert.Equal(second.Failures, IoMT.Deployment.Composition.DeploymentOptionsValidation.Failures(new SecondOptions { Count = 3, Limit = 2 }));
    }

    [Fact]
    public void ReplaceSeam_removes_earlier_registrations_whatever_the_order_and_registers_the_adapter_once()
    {
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment().AddLocalProvider(o => o.Root = Path.GetTempPath());
        services.AddSingleton(Mock.Of<IConnectorDeployer>());
        var built = 0;

        builder.ReplaceSeam<IConnectorDeployer, RecordingDeployer>(_ => { built++; return new RecordingDeployer(); })
            .ReplaceSeam<IConnectorDeployer, RecordingDeployer>(_ => throw new InvalidOperationException("the second factory must not replace the first"));
        using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IConnectorDeployer));
        Assert.Same(provider.GetRequiredService<RecordingDeployer>(), provider.GetRequiredService<IConnectorDeployer>());
        Assert.Equal(1, built);
    }

    [Fact]
    public void A_required_credential_that_is_missing_fails_start_up_naming_the_adapter_and_the_call_to_make()
    {
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment();
        builder.AddValidatedOptions<SampleOptions>();
        builder.RequireCredential<SampleOptions>("AddSample");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("AddSample needs an Azure credential and none is set: call .UseCredential(credential)", Assert.Single(error.Failures), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => provider.GetDeploymentCredential("AddSample"));
    }

    [Fact]
    public void A_conditional_requirement_only_fails_when_its_condition_holds_and_a_credential_satisfies_it()
    {
        var credential = Mock.Of<TokenCredential>();
        var services = new ServiceCollection();
        services.AddIoMTDeployment().RequireCredential<SampleOptions>("AddSample", o => o.Count > 5);
        using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
        }

        services.AddIoMTDeployment().AddValidatedOptions<SampleOptions>(o => o.Count = 6);
        using (var provider = services.BuildServiceProvider())
        {
            Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        }

        services.AddIoMTDeployment().UseCredential(_ => credential);
        using (var provider = services.BuildServiceProvider())
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            Assert.Same(credential, provider.GetDeploymentCredential("AddSample"));
        }
    }

    private sealed class RecordingDeployer : IConnectorDeployer
    {
        public Task DeployAsync(ConnectorTarget connector, ArtifactPackage package, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task SetProjectVersionAsync(ConnectorTarget connector, BuildNumber build, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<string?> GetProjectVersionAsync(ConnectorTarget connector, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
