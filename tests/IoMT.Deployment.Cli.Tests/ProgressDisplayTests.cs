namespace IoMT.Deployment.Cli.Tests;

/// <summary>Progress: a bar redrawn in place on a terminal, plain lines otherwise.</summary>
public sealed class ProgressDisplayTests
{
    private static ConnectorResult Result(string id, ConnectorOutcome outcome) =>
        new() { Connector = new ConnectorTarget(id), Outcome = outcome, Duration = TimeSpan.FromMilliseconds(12) };

    [Fact]
    public void A_terminal_gets_one_bar_redrawn_in_place()
    {
        using var writer = new StringWriter();
        var display = new Output.ProgressDisplay(writer, terminal: true, total: 4, width: 60);
        display.Report(Result("c1", ConnectorOutcome.Updated));
        display.Report(Result("c2", ConnectorOutcome.Failed));
        display.Complete();

        var text = writer.ToString();
        var frames = text.Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, frames.Length);
        Assert.StartsWith("[#######-----------------------] 1/4  c1: Updated", frames[0], StringComparison.Ordinal);
        Assert.StartsWith("[###############---------------] 2/4 (1 failed)  c2: Failed", frames[1], StringComparison.Ordinal);
        Assert.All(frames, f => Assert.Equal(59, f.TrimEnd('\n', '\r').Length));
        Assert.EndsWith(Environment.NewLine, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Redirected_output_gets_one_line_per_connector_and_the_total_grows_with_the_fleet()
    {
        using var writer = new StringWriter();
        var display = new Output.ProgressDisplay(writer, terminal: false, total: 1);
        display.Report(Result("c1", ConnectorOutcome.AlreadyCurrent));
        display.Report(Result("c2", ConnectorOutcome.Deleted));
        display.Complete();

        Assert.Equal(
            ["[1/1] c1: AlreadyCurrent (12 ms)", "[2/2] c2: Deleted (12 ms)"],
            writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }
}
