using System.Globalization;
using IoMT.Deployment.Composition;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment;

/// <summary>
/// Checks the wave plan at start-up; every message names the setting's key, in the section the host binds the options
/// from (<c>UseOptionsSection&lt;RolloutOptions&gt;</c>), else in <see cref="RolloutOptions.SectionName"/>.
/// </summary>
/// <param name="section">The section the host named for the options, or <see langword="null"/>.</param>
internal sealed class RolloutOptionsValidator(OptionsSection<RolloutOptions>? section = null) : IValidateOptions<RolloutOptions>
{
    private readonly string _section = section?.Name ?? RolloutOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, RolloutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!Enum.IsDefined(options.OnHalt))
        {
            errors.Add($"{_section}:OnHalt must be 'Rollback' or 'Pause'; '{options.OnHalt}' is not.");
        }

        if (string.IsNullOrEmpty(options.Salt))
        {
            errors.Add($"{_section}:Salt must not be empty.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        double? lastPercent = null;
        for (var i = 0; i < options.Waves.Count; i++)
        {
            var w = options.Waves[i];
            var key = string.Create(CultureInfo.InvariantCulture, $"{_section}:Waves:{i}");
            if (string.IsNullOrWhiteSpace(w.Name))
            {
                errors.Add($"{key}:Name is required.");
            }
            else if (!names.Add(w.Name))
            {
                errors.Add($"{key}:Name '{w.Name}' is used by an earlier wave; wave names must be unique.");
            }

            if (w.Tag is not null && (w.Tag.IndexOf('=', StringComparison.Ordinal) is var eq && (eq <= 0 || eq == w.Tag.Length - 1)))
            {
                errors.Add($"{key}:Tag must be 'key=value'; '{w.Tag}' is not.");
            }

            if (w.Percent is { } percent)
            {
                if (percent is <= 0 or > 100 || double.IsNaN(percent))
                {
                    errors.Add($"{key}:Percent must be more than 0 and at most 100; {percent.ToString(CultureInfo.InvariantCulture)} is not.");
                }
                else if (lastPercent is { } last && percent <= last)
                {
                    errors.Add($"{key}:Percent is cumulative and must increase from wave to wave; {percent.ToString(CultureInfo.InvariantCulture)} is not more than {last.ToString(CultureInfo.InvariantCulture)}.");
                }

                lastPercent = percent;
            }

            var last100 = i == options.Waves.Count - 1;
            if (!w.Canary && w.Tag is null && w.Connectors.Count == 0 && w.Percent is null && !last100)
            {
                errors.Add($"{key} ('{w.Name}') selects nothing: set Canary, Tag, Connectors or Percent (only the last wave may select nothing explicitly: it takes every connector no earlier wave selected).");
            }

            if (w.BakeTime < TimeSpan.Zero)
            {
                errors.Add($"{key}:BakeTime must not be negative.");
            }

            if (w.MaxFailed is < 0)
            {
                errors.Add($"{key}:MaxFailed must not be negative.");
            }

            if (w.MaxFailedPercent is { } mfp && (mfp is < 0 or > 100 || double.IsNaN(mfp)))
            {
                errors.Add($"{key}:MaxFailedPercent must be between 0 and 100.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
