namespace IoMT.Deployment.Cli.Tests;

/// <summary>Messages that embed the operator's text close it with one period.</summary>
public sealed class MessageTextTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Theory]
    [InlineData("alarms on 1")]
    [InlineData("alarms on 1.")]
    public void An_invalidation_reason_is_closed_with_one_period(string reason)
    {
        _ws.Run("deliver", _ws.MakeFunction(1), "--build", "1").Exits(0);

        var run = _ws.Run("invalidate", "1", "--reason", reason, "--actor", "alice").Exits(0);

        Assert.Contains("invalidated by alice: alarms on 1. No update will pick it again", run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("..", run.Stdout, StringComparison.Ordinal);
    }
}
