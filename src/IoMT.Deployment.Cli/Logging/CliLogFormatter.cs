using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cli.Logging;

/// <summary>How <see cref="CliLogFormatter"/> writes.</summary>
internal sealed class CliLogFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>Gets or sets a value indicating whether each log line is a JSON object (with <c>--output json</c>).</summary>
    public bool Json { get; set; }

    /// <summary>Gets or sets a value indicating whether exceptions are written with their stack traces, and categories and event ids shown (with <c>--verbose</c>).</summary>
    public bool Verbose { get; set; }
}

/// <summary>
/// The tool's log format on stderr: short human lines (<c>warn: …</c>), or one JSON object per line for pipelines.
/// Stack traces only with <c>--verbose</c>; the engine's own "operation failed" line is left out of human output
/// because the tool reports that error itself.
/// </summary>
internal sealed class CliLogFormatter : ConsoleFormatter
{
    /// <summary>The formatter's name.</summary>
    public const string FormatterName = "iomt-deploy";

    // The engine logs a failed (1015) or refused (1023) operation before throwing; the tool reports the same error once.
    private const int EngineOperationFailedEventId = 1015;
    private const int EngineOperationRefusedEventId = 1023;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly CliLogFormatterOptions _options;

    /// <summary>Creates the formatter.</summary>
    /// <param name="options">The options.</param>
    public CliLogFormatter(IOptions<CliLogFormatterOptions> options)
        : base(FormatterName)
    {
        _options = options.Value;
    }

    /// <inheritdoc/>
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? string.Empty;
        if (_options.Json)
        {
            WriteJson(logEntry, message, textWriter);
            return;
        }

        if (!_options.Verbose && logEntry.EventId.Id is EngineOperationFailedEventId or EngineOperationRefusedEventId)
        {
            return;
        }

        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(": ");
        if (_options.Verbose)
        {
            textWriter.Write(logEntry.Category);
            textWriter.Write('[');
            textWriter.Write(logEntry.EventId.Id);
            textWriter.Write("] ");
        }

        textWriter.Write(message);
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(_options.Verbose ? Environment.NewLine + exception : $" ({exception.GetType().Name}: {exception.Message})");
        }

        textWriter.Write(Environment.NewLine);
    }

    private void WriteJson<TState>(in LogEntry<TState> logEntry, string message, TextWriter textWriter)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("timestamp", DateTimeOffset.UtcNow);
            writer.WriteString("level", logEntry.LogLevel.ToString());
            writer.WriteString("category", logEntry.Category);
            writer.WriteNumber("eventId", logEntry.EventId.Id);
            writer.WriteString("message", message);
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                writer.WriteStartObject("state");
                foreach (var (key, value) in fields)
                {
                    if (key == "{OriginalFormat}")
                    {
                        continue;
                    }

                    writer.WriteString(key, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                }

                writer.WriteEndObject();
            }

            if (logEntry.Exception is { } exception)
            {
                writer.WriteString("exception", _options.Verbose ? exception.ToString() : $"{exception.GetType().Name}: {exception.Message}");
            }

            writer.WriteEndObject();
        }

        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write(Environment.NewLine);
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => level.ToString(),
    };
}
