using System.CommandLine;
using System.Globalization;

namespace IoMT.Deployment.Cli.Commands;

/// <summary>The options every command takes, and the factories of options several commands share.</summary>
internal sealed class GlobalOptions
{
    /// <summary>Gets <c>--root</c>.</summary>
    public Option<string?> Root { get; } = new("--root")
    {
        Description = "The local provider's root folder [setting Root, env IOMT_DEPLOY__ROOT; default ./.iomt].",
        HelpName = "dir",
        Recursive = true,
    };

    /// <summary>Gets <c>--provider</c>.</summary>
    public Option<string?> Provider { get; } = CreateProvider();

    /// <summary>Gets <c>--config</c>.</summary>
    public Option<string?> Config { get; } = new("--config")
    {
        Description = "A JSON settings file; environment variables and flags override it.",
        HelpName = "file.json",
        Recursive = true,
    };

    /// <summary>Gets <c>--verbose</c>.</summary>
    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log at Debug level with categories, and print stack traces of errors.",
        Recursive = true,
    };

    /// <summary>Adds the options to the root command.</summary>
    /// <param name="root">The root command.</param>
    public void AddTo(RootCommand root)
    {
        root.Options.Add(Root);
        root.Options.Add(Provider);
        root.Options.Add(Config);
        root.Options.Add(Verbose);
    }

    /// <summary>Creates the output-format option.</summary>
    /// <param name="name">The option's name.</param>
    /// <param name="aliases">Its aliases.</param>
    /// <returns>The option.</returns>
    public static Option<string> CreateFormat(string name, params string[] aliases)
    {
        var option = new Option<string>(name, aliases)
        {
            Description = "The result format on stdout: text, or json (logs stay on stderr).",
            HelpName = "text|json",
            DefaultValueFactory = _ => "text",
        };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }

    /// <summary>Creates the <c>--max-parallel</c> option.</summary>
    /// <returns>The option.</returns>
    public static Option<int?> CreateMaxParallel()
    {
        var option = new Option<int?>("--max-parallel")
        {
            Description = "How many connectors are deployed or read at once, 1-1024 [setting MaxParallel, env IOMT_DEPLOY__MAXPARALLEL; default 16].",
            HelpName = "N",
        };
        option.Validators.Add(result =>
        {
            // Runs after conversion errors are recorded; reading the value of an unconvertible token would throw.
            if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is < 1 or > 1024)
            {
                result.AddError($"--max-parallel must be between 1 and 1024; {n} is not.");
            }
        });
        return option;
    }

    /// <summary>Creates the <c>--actor</c> option.</summary>
    /// <returns>The option.</returns>
    public static Option<string?> CreateActor() => new("--actor")
    {
        Description = "Who is recorded as making the change [setting Actor, env IOMT_DEPLOY__ACTOR; default: with --provider azure the signed-in Azure principal, otherwise the operating-system user].",
        HelpName = "name",
    };

    /// <summary>Creates a <c>--reason</c> option; given, it must not be blank.</summary>
    /// <param name="description">What the reason is for.</param>
    /// <param name="required">Whether it is required.</param>
    /// <returns>The option.</returns>
    public static Option<string> CreateReason(string description, bool required = true)
    {
        var option = new Option<string>("--reason")
        {
            Description = description,
            HelpName = "text",
            Required = required,
        };
        option.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("--reason must not be empty.");
            }
        });
        return option;
    }

    /// <summary>Parses a build number token, or records why it is not one.</summary>
    /// <param name="result">The token's argument result.</param>
    /// <param name="name">The flag or argument name, for the message.</param>
    /// <returns>The build, or <see langword="default"/> with an error recorded.</returns>
    public static BuildNumber ParseBuild(System.CommandLine.Parsing.ArgumentResult result, string name)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        try
        {
            return BuildNumber.Parse(text);
        }
        catch (FormatException ex)
        {
            result.AddError($"{name}: {ex.Message}");
            return default;
        }
    }

    private static Option<string?> CreateProvider()
    {
        var option = new Option<string?>("--provider")
        {
            Description = "Where builds, state and connectors live: local (a folder) or azure (Blob Storage, Cosmos DB, App Service) [setting Provider, env IOMT_DEPLOY__PROVIDER; default local].",
            HelpName = "local|azure",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong(CliSettings.LocalProvider, CliSettings.AzureProvider);
        return option;
    }
}
