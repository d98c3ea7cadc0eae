using System.Collections;

namespace IoMT.Deployment.Cli;

/// <summary>What the tool reads from and writes to: its streams, whether stdout is a terminal, and its environment.</summary>
internal sealed class CliConsole
{
    /// <summary>Gets the standard output: results (human text or JSON).</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Gets the standard error: errors and, through the logger, logs.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Gets a value indicating whether stdout goes to a file or a pipe rather than a terminal.</summary>
    public bool IsOutputRedirected { get; init; } = true;

    /// <summary>Gets the terminal width for progress bars.</summary>
    public int Width { get; init; } = 80;

    /// <summary>Gets the environment variables, by name.</summary>
    public required IReadOnlyDictionary<string, string?> Environment { get; init; }

    /// <summary>Gets the console of the running process.</summary>
    /// <returns>The console.</returns>
    public static CliConsole FromSystem()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = entry.Value as string;
        }

        var redirected = Console.IsOutputRedirected;
        return new CliConsole
        {
            Out = Console.Out,
            Error = Console.Error,
            IsOutputRedirected = redirected,
            Width = redirected ? 80 : SafeWidth(),
            Environment = environment,
        };
    }

    private static int SafeWidth()
    {
        try
        {
            return Console.WindowWidth > 20 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
