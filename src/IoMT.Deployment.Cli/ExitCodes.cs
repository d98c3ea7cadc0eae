using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cli;

/// <summary>The process exit codes, a contract for pipelines and runbooks.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>The operation ran, but some connectors failed or do not run the expected build.</summary>
    public const int Incomplete = 1;

    /// <summary>Bad input: unknown command or flag, missing argument, unparseable build, invalid zip, invalid settings.</summary>
    public const int BadInput = 2;

    /// <summary>Conflict: the build exists with other bytes, the state changed underneath, another rollout holds the lock, the build is invalidated.</summary>
    public const int Conflict = 3;

    /// <summary>Not found: build, connector, artifact store or local root.</summary>
    public const int NotFound = 4;

    /// <summary>Any other error.</summary>
    public const int Unexpected = 5;

    /// <summary>A store (artifact container, version store, rollout lock, connector inventory) could not be reached or did not answer; nothing was changed.</summary>
    public const int StoreUnavailable = 6;

    /// <summary>A store refused the identity (401/403, no token): a role assignment is missing.</summary>
    public const int AccessDenied = 7;

    /// <summary>Cancelled (Ctrl+C, SIGTERM), as shells report SIGINT.</summary>
    public const int Cancelled = 130;

    /// <summary>Maps an exception to its exit code.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The exit code.</returns>
    public static int For(Exception exception) => exception switch
    {
        CliException cli => cli.ExitCode,
        StoreUnavailableException or StoreThrottledException => StoreUnavailable,
        StoreAccessDeniedException => AccessDenied,
        OptionsValidationException or InvalidPackageException => BadInput,
        ArtifactConflictException or VersionStateConflictException or RolloutLockHeldException or BuildInvalidatedException or RolloutNotActiveException => Conflict,
        BuildNotFoundException or ConnectorNotFoundException => NotFound,
        ArtifactStoreException { IsMissing: true } => NotFound,
        OperationCanceledException => Cancelled,
        _ => Unexpected,
    };

    /// <summary>Maps a rollout's report to its exit code.</summary>
    /// <param name="report">The report.</param>
    /// <returns>
    /// For a progressive rollout: 0 when it completed, bakes, awaits approval or is paused; 1 when it halted or was rolled back.
    /// Otherwise (no rollout record, or one still running: a wave whose connectors failed is retried by the next tick): 0 when
    /// the tick succeeded; 3 (conflict) when it stopped because its build was invalidated underneath it; otherwise 1.
    /// </returns>
    public static int For(RolloutReport report) => report.Rollout?.Status switch
    {
        RolloutStatus.Completed or RolloutStatus.Baking or RolloutStatus.AwaitingApproval or RolloutStatus.Paused => Success,
        RolloutStatus.Halted or RolloutStatus.RolledBack => Incomplete,
        _ => report.Succeeded ? Success : report.StopReason is not null ? Conflict : Incomplete,
    };

    /// <summary>Names an exit code for JSON error output.</summary>
    /// <param name="exitCode">The code.</param>
    /// <returns>The name.</returns>
    public static string Name(int exitCode) => exitCode switch
    {
        Success => "success",
        Incomplete => "incomplete",
        BadInput => "badInput",
        Conflict => "conflict",
        NotFound => "notFound",
        StoreUnavailable => "storeUnavailable",
        AccessDenied => "accessDenied",
        Cancelled => "cancelled",
        _ => "unexpected",
    };
}

/// <summary>An error the tool itself detects, with the exit code it means.</summary>
internal sealed class CliException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="exitCode">The exit code.</param>
    /// <param name="message">What is wrong, naming the flag, setting or file.</param>
    /// <param name="innerException">The cause.</param>
    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>Gets the exit code.</summary>
    public int ExitCode { get; }
}
