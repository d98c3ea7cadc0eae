using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Operations.Tests;

/// <summary>The engine's failures map to HTTP statuses as the CLI maps them to exit codes.</summary>
public sealed class ProblemMappingTests
{
    public static TheoryData<Exception, int, string> Cases() => new()
    {
        { new ArgumentException("A reason is required to pause a rollout."), 422, "badInput" },
        { new OptionsValidationException("x", typeof(object), ["IoMTDeployment:Rollout:Waves is wrong"]), 422, "badInput" },
        { new InvalidPackageException(BuildNumber.Parse("3"), "corrupt"), 422, "badInput" },
        { new RolloutNotActiveException("No rollout to pause: none was started yet."), 409, "rolloutNotActive" },
        { new VersionStateConflictException("changed underneath"), 409, "versionStateConflict" },
        { new RolloutLockHeldException("held by worker-2"), 409, "rolloutLockHeld" },
        { new BuildInvalidatedException(BuildNumber.Parse("3"), "Build 3 is invalidated."), 409, "buildInvalidated" },
        { new ArtifactConflictException(BuildNumber.Parse("3"), "aa", "bb"), 409, "artifactConflict" },
        { new BuildNotFoundException(BuildNumber.Parse("9"), "no build 9"), 404, "buildNotFound" },
        { new ConnectorNotFoundException("nobody"), 404, "connectorNotFound" },
        { new ArtifactStoreException("container missing", isMissing: true), 404, "artifactStore" },
        { new StoreUnavailableException(StoreUnavailableException.VersionStore, "https://cosmos.test", "read the version state", isTransient: true), 503, "storeUnavailable" },
        { new StoreThrottledException(StoreUnavailableException.VersionStore, "https://cosmos.test", "read the version state", TimeSpan.FromSeconds(2)), 503, "storeThrottled" },
        { new StoreAccessDeniedException(StoreUnavailableException.ArtifactContainer, "https://blob.test", "list builds", "403"), 502, "storeAccessDenied" },
        { new ArtifactStoreException("cannot list"), 500, "artifactStore" },
        { new InvalidOperationException("internal detail that must not leak"), 500, "unexpected" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Domain_failures_map_like_the_CLIs_exit_codes(Exception exception, int status, string error)
    {
        var problem = OperationsFilter.Classify(exception);
        Assert.Equal((status, error), (problem.Status, problem.Error));
        if (error == "unexpected")
        {
            Assert.DoesNotContain("internal detail", problem.Detail, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(exception.Message, problem.Detail);
        }
    }
}
