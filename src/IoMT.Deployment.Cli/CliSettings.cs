using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace IoMT.Deployment.Cli;

/// <summary>
/// The tool's top-level settings. Each comes from its flag, then from the environment variable <c>IOMT_DEPLOY__{KEY}</c>,
/// then from the <c>--config</c> file, then from its default.
/// </summary>
internal sealed class CliSettings
{
    /// <summary>The prefix of the environment variables the tool reads; <c>__</c> separates sections.</summary>
    public const string EnvironmentPrefix = "IOMT_DEPLOY__";

    /// <summary>The local provider's name.</summary>
    public const string LocalProvider = "local";

    /// <summary>The Azure provider's name.</summary>
    public const string AzureProvider = "azure";

    /// <summary>The actor when the operating system names no user at all (a container without a passwd entry or <c>USER</c>).</summary>
    public const string UnknownActor = "unknown-user";

    /// <summary>Gets or sets the provider: <c>local</c> (embedded, a folder) or <c>azure</c> (Blob Storage, Cosmos DB, App Service).</summary>
    /// <value><c>local</c>.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Provider (--provider, IOMT_DEPLOY__PROVIDER) is required.")]
    [AllowedValues(LocalProvider, AzureProvider, ErrorMessage = "Provider (--provider, IOMT_DEPLOY__PROVIDER) must be 'local' or 'azure'.")]
    public string Provider { get; set; } = LocalProvider;

    /// <summary>Gets or sets the local provider's root folder.</summary>
    /// <value><c>./.iomt</c>.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Root (--root, IOMT_DEPLOY__ROOT) must not be empty.")]
    public string Root { get; set; } = ".iomt";

    /// <summary>Gets or sets how many connectors are deployed or read at once; <see langword="null"/> keeps the engine's default (16).</summary>
    [Range(1, 1024, ErrorMessage = "MaxParallel (--max-parallel, IOMT_DEPLOY__MAXPARALLEL) must be between 1 and 1024.")]
    public int? MaxParallel { get; set; }

    /// <summary>
    /// Gets or sets who is recorded as the actor of invalidations, rollbacks, reinstatements, operator commands and pins:
    /// the <c>Actor</c> setting (<c>--actor</c>), else the operating-system user. With the azure provider and no
    /// <c>Actor</c> setting, commands record the signed-in Azure principal instead (see <see cref="Composition.SignedInActor"/>).
    /// </summary>
    /// <value>The <c>USER</c> (or <c>USERNAME</c>) environment variable, else <see cref="Environment.UserName"/>; never the tool's name.</value>
    public string Actor { get; set; } = UnknownActor;

    /// <summary>Gets or sets a value indicating whether <see cref="Actor"/> was given (<c>--actor</c>, <c>IOMT_DEPLOY__ACTOR</c>, the file) rather than derived.</summary>
    public bool ActorIsExplicit { get; set; }

    /// <summary>Builds the configuration: the <c>--config</c> file, overridden by the environment, overridden by the flags.</summary>
    /// <param name="configFile">The JSON file named by <c>--config</c>, or <see langword="null"/>.</param>
    /// <param name="environment">The environment variables; those starting with <see cref="EnvironmentPrefix"/> are read.</param>
    /// <param name="flags">The settings given as flags, by configuration key.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="CliException">The file does not exist or is not valid JSON (exit code 2).</exception>
    public static IConfigurationRoot BuildConfiguration(string? configFile, IReadOnlyDictionary<string, string?> environment, IReadOnlyDictionary<string, string?> flags)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(flags);
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new CliException(ExitCodes.BadInput, $"The configuration file '{configFile}' (--config) does not exist.");
            }

            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        builder.AddInMemoryCollection(FromEnvironment(environment));
        builder.AddInMemoryCollection(flags.Where(f => f.Value is not null));
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            throw new CliException(ExitCodes.BadInput, $"The configuration file '{configFile}' (--config) is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Reads and validates the top-level settings.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="environment">The environment, for the <c>USER</c>/<c>USERNAME</c> default of the actor.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="CliException">A setting is invalid; the message names it (exit code 2).</exception>
    public static CliSettings Read(IConfiguration configuration, IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        if (configuration.GetSection("IoMTDeployment").Exists())
        {
            // A host's appsettings section pasted into --config would otherwise be ignored without a word.
            throw new CliException(ExitCodes.BadInput, "The settings have an 'IoMTDeployment' section, which iomt-deploy does not read: its keys have no prefix (Rollout:Waves, Local:*, Azure:*), as in IOMT_DEPLOY__ROLLOUT__WAVES__0__NAME. Move the section's content to the top level of the --config file.");
        }

        var settings = new CliSettings();
        if (configuration["Provider"] is { } provider)
        {
            settings.Provider = provider.Trim().ToLowerInvariant();
        }

        if (configuration["Root"] is { } root)
        {
            settings.Root = root;
        }

        if (configuration["MaxParallel"] is { } maxParallel)
        {
            settings.MaxParallel = int.TryParse(maxParallel, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new CliException(ExitCodes.BadInput, $"MaxParallel (--max-parallel, IOMT_DEPLOY__MAXPARALLEL) must be a whole number between 1 and 1024; '{maxParallel}' is not.");
        }

        var actor = configuration["Actor"];
        settings.ActorIsExplicit = !string.IsNullOrWhiteSpace(actor);
        settings.Actor = settings.ActorIsExplicit ? actor!.Trim() : OperatingSystemUser(environment);

        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true))
        {
            throw new CliException(ExitCodes.BadInput, string.Join(Environment.NewLine, results.Select(r => r.ErrorMessage)));
        }

        return settings;
    }

    /// <summary>Names the operating-system user running the tool.</summary>
    /// <param name="environment">The environment: <c>USER</c> (Unix) or <c>USERNAME</c> (Windows) when set.</param>
    /// <returns>The user name; <see cref="UnknownActor"/> only when the system names none.</returns>
    public static string OperatingSystemUser(IReadOnlyDictionary<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (var name in (string[])["USER", "USERNAME"])
        {
            if (environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value))
            {
                return value.Trim();
            }
        }

        var user = Environment.UserName;
        return string.IsNullOrWhiteSpace(user) ? UnknownActor : user;
    }

    private static IEnumerable<KeyValuePair<string, string?>> FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        foreach (var (name, value) in environment)
        {
            if (name.Length > EnvironmentPrefix.Length && name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                yield return new(name[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), value);
            }
        }
    }
}
