using System.CommandLine;
using System.CommandLine.Invocation;
using IoMT.Deployment.Cli.Commands;
using IoMT.Deployment.Cli.Output;

namespace IoMT.Deployment.Cli;

/// <summary>The <c>iomt-deploy</c> entry point: parses the command line, runs the command, returns the exit code.</summary>
internal static class CliApplication
{
    /// <summary>Runs the tool.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="console">The streams and environment.</param>
    /// <param name="cancellationToken">Cancels the command (Ctrl+C and SIGTERM cancel it too).</param>
    /// <returns>The exit code (see <see cref="ExitCodes"/>).</returns>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var root = CommandTree.Create(console);

        // Response files (@file) are off: a path starting with '@' is a path.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            return ReportParseErrors(parse, args, console);
        }

        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
        };
        return await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    private static int ReportParseErrors(ParseResult parse, string[] args, CliConsole console)
    {
        var messages = parse.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal).ToList();
        foreach (var message in messages)
        {
            console.Error.WriteLine($"iomt-deploy: error: {message}");
        }

        var path = CommandPath(parse);
        console.Error.WriteLine($"Run '{path} --help' for usage.");
        if (WantsJson(parse, args))
        {
            JsonOutput.Write(console.Out, new ErrorResult(new ErrorDetail(ExitCodes.BadInput, ExitCodes.Name(ExitCodes.BadInput), "ParseError", string.Join(Environment.NewLine, messages))));
        }

        console.Error.Flush();
        return ExitCodes.BadInput;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "iomt-deploy" : result.Command.Name);
        }

        return string.Join(' ', names);
    }

    // A parse failure still answers in JSON when the command line asked for it.
    private static bool WantsJson(ParseResult parse, string[] args)
    {
        var isPackage = parse.CommandResult.Command.Name == "package";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            foreach (var name in isPackage ? (string[])["--format"] : ["--output", "--format"])
            {
                if (string.Equals(arg, name, StringComparison.Ordinal) && i + 1 < args.Length && string.Equals(args[i + 1], "json", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                if (arg.StartsWith(name, StringComparison.Ordinal) && arg.Length == name.Length + 5 && arg[name.Length] is '=' or ':' && arg.EndsWith("json", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
