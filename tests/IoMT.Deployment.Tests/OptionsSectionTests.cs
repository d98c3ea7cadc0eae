using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using IoMT.Deployment.Composition;

namespace IoMT.Deployment.Tests;

/// <summary>
/// One way to word an options failure (issue #15), in every package: each options class with a <c>SectionName</c> names
/// that section with <see cref="OptionsSectionAttribute"/>, and an invalid value of any of its annotated settings fails
/// with a message that starts with the setting's full key (<c>{SectionName}:{Setting} …</c>) and ends with one period.
/// </summary>
public sealed class OptionsSectionTests
{
    // Invalid for every RegularExpression the options use (a path separator, '?', '#', a trailing space, upper case).
    private const string NoName = "Not/a name?#\\ ";

    [Fact]
    public void Every_package_under_src_is_walked()
    {
        var missing = SourceAssemblyNames().Where(name => TryLoad(name) is null).ToList();

        Assert.True(missing.Count == 0, $"Reference these src projects from IoMT.Deployment.Tests so OptionsSectionTests walks them: {string.Join(", ", missing)}.");
    }

    [Fact]
    public void Every_options_class_names_its_section_and_every_failure_starts_with_the_settings_key()
    {
        var optionsTypes = SourceAssemblyNames()
            .Select(TryLoad)
            .OfType<Assembly>()
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => SectionName(t) is not null || t.IsDefined(typeof(OptionsSectionAttribute), inherit: false))
            .ToList();
        var problems = new List<string>();

        foreach (var type in optionsTypes)
        {
            var section = SectionName(type);
            var named = type.GetCustomAttribute<OptionsSectionAttribute>()?.Name;
            if (section is null || named != section)
            {
                problems.Add($"{type.Name}: SectionName '{section}' and [OptionsSection(\"{named}\")] must both be set, to the same section.");
                continue;
            }

            var checkedSettings = 0;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic))
            {
                foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>(inherit: true))
                {
                    if (!Invalid(attribute, property.PropertyType, out var value))
                    {
                        problems.Add($"{type.Name}.{property.Name}: no invalid value is known for [{attribute.GetType().Name}]; add one to OptionsSectionTests.Invalid.");
                        continue;
                    }

                    var options = Activator.CreateInstance(type)!;
                    property.SetValue(options, value);
                    var failures = DeploymentOptionsValidation.Failures(options);
                    var key = $"{section}:{property.Name}";
                    checkedSettings++;
                    if (!failures.Any(f => f.StartsWith(key + " ", StringComparison.Ordinal)))
                    {
                        problems.Add($"{key} = {Show(value)} ([{attribute.GetType().Name}]): no failure starts with '{key} '; got: {string.Join(" | ", failures)}");
                    }

                    problems.AddRange(failures
                        .Where(f => !f.StartsWith(section + ":", StringComparison.Ordinal) || !f.EndsWith('.') || f.EndsWith("..", StringComparison.Ordinal))
                        .Select(f => $"{key} = {Show(value)}: '{f}' does not start with '{section}:' or does not end with one period."));
                }
            }

            if (checkedSettings == 0)
            {
                problems.Add($"{type.Name}: no annotated setting to check.");
            }
        }

        Assert.True(optionsTypes.Count >= 15, $"Only {optionsTypes.Count} options classes found: {string.Join(", ", optionsTypes.Select(t => t.Name))}.");
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static string? SectionName(Type type) =>
        type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly) is { IsLiteral: true } field
            ? (string?)field.GetRawConstantValue()
            : null;

    private static bool Invalid(ValidationAttribute attribute, Type propertyType, out object? value)
    {
        var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        value = attribute switch
        {
            RequiredAttribute when !type.IsValueType || type != propertyType => null,
            RangeAttribute range when type == typeof(TimeSpan) => (object?)Below(range.Minimum) ?? Unknown,
            RangeAttribute range when type == typeof(int) => checked(Convert.ToInt32(range.Minimum, CultureInfo.InvariantCulture) - 1),
            RangeAttribute range when type == typeof(long) => checked(Convert.ToInt64(range.Minimum, CultureInfo.InvariantCulture) - 1),
            RangeAttribute range when type == typeof(double) => Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture) - 1,
            StringLengthAttribute length when type == typeof(string) => new string('a', length.MaximumLength + 1),
            MaxLengthAttribute length when type == typeof(string) => new string('a', length.Length + 1),
            RegularExpressionAttribute regex when type == typeof(string) && !Regex.IsMatch(NoName, regex.Pattern) => NoName,
            _ => Unknown,
        };

        return !ReferenceEquals(value, Unknown);
    }

    private static readonly object Unknown = new();

    private static TimeSpan? Below(object minimum) => minimum switch
    {
        TimeSpan t => t - TimeSpan.FromTicks(1),
        string s => TimeSpan.Parse(s, CultureInfo.InvariantCulture) - TimeSpan.FromTicks(1),
        _ => null,
    };

    private static string Show(object? value) => value switch
    {
        null => "null",
        string { Length: > 20 } s => $"'{s[..5]}…' ({s.Length} characters)",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    // The assembly of every project under src/ (its AssemblyName, else the project's name).
    private static IEnumerable<string> SourceAssemblyNames() =>
        Directory.GetDirectories(Path.Combine(TestPaths.RepoRoot, "src"))
            .SelectMany(project => Directory.GetFiles(project, "*.csproj"))
            .Select(path => XDocument.Load(path).Descendants("AssemblyName").FirstOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(path))
            .Order(StringComparer.Ordinal);

    private static Assembly? TryLoad(string name)
    {
        try
        {
            return Assembly.Load(new AssemblyName(name));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
