using System.Globalization;

namespace IoMT.Deployment.Cli.Output;

/// <summary>
/// Shows a rollout's progress: a bar redrawn in place on a terminal, one plain line per connector otherwise.
/// Reports arrive from parallel connector steps; they are written synchronously, in the order they finish.
/// </summary>
internal sealed class ProgressDisplay : IProgress<ConnectorResult>
{
    private const int BarWidth = 30;
    private readonly TextWriter _writer;
    private readonly bool _terminal;
    private readonly int _width;
    private readonly Lock _gate = new();
    private int _total;
    private int _done;
    private int _failed;
    private bool _drawn;

    /// <summary>Creates the display.</summary>
    /// <param name="writer">Where to write (stdout).</param>
    /// <param name="terminal">Whether the writer is a terminal: draw a bar instead of lines.</param>
    /// <param name="total">The number of connectors expected (the inventory can change meanwhile).</param>
    /// <param name="width">The terminal width.</param>
    public ProgressDisplay(TextWriter writer, bool terminal, int total, int width = 80)
    {
        _writer = writer;
        _terminal = terminal;
        _total = total;
        _width = Math.Max(40, width);
    }

    /// <inheritdoc/>
    public void Report(ConnectorResult value)
    {
        lock (_gate)
        {
            _done++;
            _total = Math.Max(_total, _done);
            if (value.Outcome == ConnectorOutcome.Failed)
            {
                _failed++;
            }

            var detail = value.Outcome == ConnectorOutcome.Failed ? $"Failed: {value.ErrorMessage}" : value.Outcome.ToString();
            if (_terminal)
            {
                var filled = _total == 0 ? BarWidth : _done * BarWidth / _total;
                var line = string.Create(
                    CultureInfo.InvariantCulture,
                    $"[{new string('#', filled)}{new string('-', BarWidth - filled)}] {_done}/{_total}{(_failed > 0 ? $" ({_failed} failed)" : string.Empty)}  {value.Connector.Id}: {detail}");
                line = line.Length >= _width ? line[..(_width - 1)] : line.PadRight(_width - 1);
                _writer.Write('\r');
                _writer.Write(line);
                _drawn = true;
            }
            else
            {
                _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_done}/{_total}] {value.Connector.Id}: {detail} ({(long)value.Duration.TotalMilliseconds} ms)"));
            }

            _writer.Flush();
        }
    }

    /// <summary>Ends the bar's line, so the summary starts on its own.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_drawn)
            {
                _writer.WriteLine();
                _drawn = false;
            }
        }
    }
}
