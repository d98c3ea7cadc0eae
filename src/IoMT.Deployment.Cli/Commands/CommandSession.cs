using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Azure.Core;
using IoMT.Deployment.Cli.Composition;
using IoMT.Deployment.Cli.Logging;
using IoMT.Deployment.Cli.Output;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Cli.Commands;

/// <summary>One command's run: its settings, its composed services, its output format.</summary>
internal sealed class CommandSession
{
    /// <summary>Creates the session.</summary>
    public CommandSession(CliConsole console, OutputFormat format, CliSettings settings, IServiceProvider services, ILogger logger)
    {
        Console = console;
        Format = format;
        Settings = settings;
        Services = services;
        Logger = logger;
    }

    /// <summary>Gets the console.</summary>
    public CliConsole Console { get; }

    /// <summary>Gets the output format.</summary>
    public OutputFormat Format { get; }

    /// <summary>Gets the settings.</summary>
    public CliSettings Settings { get; }

    /// <summary>Gets the composed services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>Gets the tool's logger.</summary>
    public ILogger Logger { get; }

    /// <summary>Gets the rollout engine.</summary>
    public IRolloutEngine Engine => Services.GetRequiredService<IRolloutEngine>();

    /// <summary>Gets how long reading the signed-in Azure principal may take before the operating-system user is recorded.</summary>
    public static TimeSpan SignInTimeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Resolves who the command records as its actor (see <see cref="SignedInActor"/>).</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The actor.</returns>
    public Task<string> ResolveActorAsync(CancellationToken cancellationToken) =>
        SignedInActor.ResolveAsync(Settings, Services.GetService<TokenCredential>(), Logger, SignInTimeout, cancellationToken);

    /// <summary>Reads the version state (pins, the rollout record) without the engine's fleet read.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The state.</returns>
    public async Task<VersionState> ReadStateAsync(CancellationToken cancellationToken) =>
        (await Services.GetRequiredService<IVersionStore>().ReadAsync(cancellationToken).ConfigureAwait(false)).State;

    /// <summary>Gets where the provider keeps its state, for messages.</summary>
    public string Location => Describe(Settings);

    /// <summary>Prints a result: JSON, or text.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="result">The result.</param>
    /// <param name="text">Writes the text form.</param>
    public void Emit<T>(T result, Action<TextWriter, T> text)
    {
        if (Format == OutputFormat.Json)
        {
            JsonOutput.Write(Console.Out, result);
        }
        else
        {
            text(Console.Out, result);
            Console.Out.Flush();
        }
    }

    /// <summary>Describes where a provider keeps its state.</summary>
    /// <param name="settings">The settings.</param>
    /// <returns>The local root, or the Azure resources.</returns>
    public static string Describe(CliSettings settings) => settings.Provider == CliSettings.LocalProvider
        ? Path.GetFullPath(settings.Root)
        : "Azure Blob Storage, Cosmos DB and App Service";
}

/// <summary>Runs a command: reads the settings, composes the services, runs the body, maps errors to exit codes.</summary>
internal sealed class CommandRunner
{
    private readonly CliConsole _console;
    private readonly GlobalOptions _globals;

    /// <summary>Creates the runner.</summary>
    public CommandRunner(CliConsole console, GlobalOptions globals)
    {
        _console = console;
        _globals = globals;
    }

    /// <summary>Sets a command's action.</summary>
    /// <param name="command">The command.</param>
    /// <param name="format">Its output-format option.</param>
    /// <param name="needs">What it needs composed; <see langword="null"/>: logging only (no provider, no settings).</param>
    /// <param name="requireExistingRoot">Whether the local root must exist (every command but deliver and connectors add).</param>
    /// <param name="flags">Reads the settings given as flags (<c>--max-parallel</c>, <c>--actor</c>).</param>
    /// <param name="body">The command.</param>
    public void SetAction(
        Command command,
        Option<string> format,
        CommandNeeds? needs,
        bool requireExistingRoot,
        Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>>? flags,
        Func<ParseResult, CommandSession, CancellationToken, Task<int>> body)
    {
        var name = CommandName(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, name, format, needs, requireExistingRoot, flags, body, cancellationToken));
    }

    private async Task<int> RunAsync(
        ParseResult parse,
        string command,
        Option<string> formatOption,
        CommandNeeds? needs,
        bool requireExistingRoot,
        Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>>? flags,
        Func<ParseResult, CommandSession, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken)
    {
        var format = string.Equals(parse.GetValue(formatOption), "json", StringComparison.OrdinalIgnoreCase) ? OutputFormat.Json : OutputFormat.Text;
        var verbose = parse.GetValue(_globals.Verbose);
        Exception? failure;
        try
        {
            var settings = new CliSettings();
            var configuration = CliSettings.BuildConfiguration(parse.GetValue(_globals.Config), _console.Environment, ReadFlags(parse, flags));
            if (needs is not null)
            {
                settings = CliSettings.Read(configuration, _console.Environment);
                RequireRoot(settings, requireExistingRoot);
            }

            var logFormat = new CliLogFormatterOptions { Json = format == OutputFormat.Json, Verbose = verbose };
            var services = CliServices.Build(settings, configuration, needs, logFormat);
            await using (services.ConfigureAwait(false))
            {
                var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("IoMT.Deployment.Cli");
                var started = Stopwatch.GetTimestamp();
                Log.CommandStarting(logger, command, settings.Provider, CommandSession.Describe(settings));
                try
                {
                    var exitCode = await body(parse, new CommandSession(_console, format, settings, services, logger), cancellationToken).ConfigureAwait(false);
                    Log.CommandCompleted(logger, command, exitCode, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    return exitCode;
                }
                catch (Exception ex)
                {
                    // Handled here, once: logged (with --verbose), then reported after the logs are flushed.
                    Log.CommandFailed(logger, ex, command, ExitCodes.For(ex));
                    failure = ex;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        return Report(failure, format, verbose);
    }

    private Dictionary<string, string?> ReadFlags(ParseResult parse, Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>>? flags)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Root"] = parse.GetValue(_globals.Root),
            ["Provider"] = parse.GetValue(_globals.Provider),
        };
        if (flags is not null)
        {
            foreach (var (key, value) in flags(parse))
            {
                values[key] = value;
            }
        }

        return values;
    }

    private static void RequireRoot(CliSettings settings, bool requireExistingRoot)
    {
        if (!requireExistingRoot || settings.Provider != CliSettings.LocalProvider)
        {
            return;
        }

        var root = Path.GetFullPath(settings.Root);
        if (!Directory.Exists(root))
        {
            // A mistyped --root must not start a new, empty deployment state.
            throw new CliException(ExitCodes.NotFound, $"The local root '{root}' does not exist (--root, IOMT_DEPLOY__ROOT; default ./.iomt). Deliver a build first with 'iomt-deploy deliver', or point --root at an existing root.");
        }
    }

    private int Report(Exception exception, OutputFormat format, bool verbose)
    {
        var exitCode = ExitCodes.For(exception);
        var message = exitCode switch
        {
            ExitCodes.Cancelled => "Cancelled.",
            ExitCodes.Unexpected => $"{exception.GetType().Name}: {exception.Message}",
            _ => exception.Message,
        };

        _console.Error.WriteLine($"iomt-deploy: error: {message}");
        if (verbose && exception is not CliException)
        {
            _console.Error.WriteLine(exception.ToString());
        }
        else if (exitCode == ExitCodes.Unexpected)
        {
            _console.Error.WriteLine("Run with --verbose for the stack trace.");
        }

        _console.Error.Flush();
        if (format == OutputFormat.Json)
        {
            JsonOutput.Write(_console.Out, new ErrorResult(new ErrorDetail(exitCode, ExitCodes.Name(exitCode), exception.GetType().Name, message)));
        }

        return exitCode;
    }

    private static string CommandName(Command command)
    {
        var names = new List<string> { command.Name };
        foreach (var parent in command.Parents)
        {
            if (parent is Command p && p is not RootCommand)
            {
                names.Insert(0, p.Name);
            }
        }

        return string.Join(' ', names);
    }

    /// <summary>Formats an integer flag for the configuration.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text, or <see langword="null"/>.</returns>
    public static string? Format(int? value) => value?.ToString(CultureInfo.InvariantCulture);
}
