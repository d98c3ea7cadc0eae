using Moq;

namespace IoMT.Deployment.Tests;

/// <summary>What the engine's log lines say about values that are absent or already punctuated.</summary>
public sealed class LogMessageTextTests
{
    [Theory]
    [InlineData(null, "reports PROJECT_VERSION not set instead of build 1.")]
    [InlineData("0", "reports PROJECT_VERSION '0' instead of build 1.")]
    public async Task Event_1009_says_not_set_for_an_unset_project_version_and_quotes_a_set_one(string? actual, string expected)
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("1");
        var deployer = new Mock<IConnectorDeployer>();
        deployer.Setup(d => d.GetProjectVersionAsync(It.IsAny<ConnectorTarget>(), It.IsAny<CancellationToken>())).ReturnsAsync(actual);
        h.Deployer = deployer.Object;
        h.Fleet.Add("a");

        await h.Engine().UpdateAsync();

        var mismatch = Assert.Single(h.LogsWithId(1009));
        Assert.EndsWith(expected, mismatch.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("''", mismatch.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alarms on 2")]
    [InlineData("alarms on 2.")]
    public async Task Event_1012_closes_the_reason_with_one_period(string reason)
    {
        using var h = new EngineHarness();
        h.Artifacts.Add("2");

        await h.Engine().InvalidateAsync(BuildNumber.Parse("2"), reason, "ops");

        var invalidated = Assert.Single(h.LogsWithId(1012));
        Assert.EndsWith("invalidated by ops: alarms on 2.", invalidated.Message, StringComparison.Ordinal);
    }
}
