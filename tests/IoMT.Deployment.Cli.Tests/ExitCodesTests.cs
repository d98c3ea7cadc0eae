using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The exception-to-exit-code table.</summary>
public sealed class ExitCodesTests
{
    public static TheoryData<Exception, int> Cases => new()
    {
        { new CliException(4, "root missing"), 4 },
        { new OptionsValidationException("x", typeof(object), ["bad"]), 2 },
        { new InvalidPackageException(null, "not a zip"), 2 },
        { new ArtifactConflictException(BuildNumber.Parse("1"), "a", "b"), 3 },
        { new VersionStateConflictException("changed"), 3 },
        { new RolloutLockHeldException("held"), 3 },
        { new BuildInvalidatedException(BuildNumber.Parse("1"), "invalidated"), 3 },
        { new BuildNotFoundException(null, "none"), 4 },
        { new ConnectorNotFoundException("c1"), 4 },
        { new ArtifactStoreException("container missing", isMissing: true), 4 },
        { new ArtifactStoreException("container missing", isMissing: true, new Azure.RequestFailedException(404, "not found")), 4 },
        { new ArtifactStoreException("blocks discarded", new Azure.RequestFailedException(409, "conflict")), 5 },
        { new ArtifactStoreException("disk", new IOException("io")), 5 },
        { new StoreAccessDeniedException(StoreUnavailableException.ArtifactContainer, "https://account/container", "list the builds", "403, AuthorizationPermissionMismatch"), 7 },
        { new StoreThrottledException(StoreUnavailableException.VersionStore, "https://account/db/deployment", "write the version state", TimeSpan.FromSeconds(2)), 6 },
        { new VersionStoreException("corrupt"), 5 },
        { new DeploymentFailedException("c1", "failed"), 5 },
        { new InvalidOperationException("bug"), 5 },
        { new StoreUnavailableException(StoreUnavailableException.VersionStore, "https://account.documents.azure.com/iomt/state", "read the version state", isTransient: true), 6 },
        { new OperationCanceledException(), 130 },
        { new RolloutNotActiveException("No rollout is active."), 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Exceptions_map_to_their_exit_codes(Exception exception, int expected) =>
        Assert.Equal(expected, ExitCodes.For(exception));

    [Theory]
    [InlineData(true, null, 0)]
    [InlineData(false, null, 1)]
    [InlineData(false, "build 2 was invalidated while the rollout ran (by alice)", 3)]
    public void A_rollout_report_maps_to_its_exit_code(bool succeeded, string? stopReason, int expected) =>
        Assert.Equal(expected, ExitCodes.For(Report(succeeded) with { StopReason = stopReason }));

    [Theory]
    [InlineData(RolloutStatus.Baking, false, 0)]
    [InlineData(RolloutStatus.AwaitingApproval, false, 0)]
    [InlineData(RolloutStatus.Paused, false, 0)]
    [InlineData(RolloutStatus.Completed, true, 0)]
    [InlineData(RolloutStatus.Halted, false, 1)]
    [InlineData(RolloutStatus.RolledBack, true, 1)]
    [InlineData(RolloutStatus.Running, true, 0)]
    [InlineData(RolloutStatus.Running, false, 1)]
    public void A_progressive_rollout_maps_its_status_to_the_exit_code(RolloutStatus status, bool succeeded, int expected)
    {
        // A status that is an answer decides (a baking wave with a tolerated failure is 0, a halt is 1); a wave still
        // running keeps the existing codes, so an update without waves whose connector failed still exits 1.
        var rollout = new RolloutRecord { Id = "r1", Target = BuildNumber.Parse("2"), Fingerprint = "f", StartedAt = DateTimeOffset.UnixEpoch, Status = status };
        Assert.Equal(expected, ExitCodes.For(Report(succeeded) with { Rollout = rollout }));
    }

    private static RolloutReport Report(bool succeeded) => new()
    {
        RolloutId = "r1",
        Kind = RolloutKind.Update,
        Target = BuildNumber.Parse("2"),
        StartedAt = DateTimeOffset.UnixEpoch,
        CompletedAt = DateTimeOffset.UnixEpoch,
        Connectors = [],
        Succeeded = succeeded,
    };
}
