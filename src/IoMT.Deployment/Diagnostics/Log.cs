using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Diagnostics;

/// <summary>The log messages of the engine, the worker and the local provider. Event ids 1000-1999.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Code update detected: build {Target} is newer than current build {Current}.")]
    public static partial void UpdateDetected(ILogger logger, string target, string current);

    [LoggerMessage(1002, LogLevel.Information, "No code update detected: current build {Current} is the newest valid build; bringing stragglers to it.")]
    public static partial void NoUpdateDetected(ILogger logger, string current);

    [LoggerMessage(1003, LogLevel.Information, "Connector {Connector} updated to build {Build} in {ElapsedMs} ms.")]
    public static partial void ConnectorUpdated(ILogger logger, string connector, string build, long elapsedMs);

    [LoggerMessage(1004, LogLevel.Debug, "Connector {Connector} already runs build {Build}; skipped.")]
    public static partial void ConnectorAlreadyCurrent(ILogger logger, string connector, string build);

    [LoggerMessage(1005, LogLevel.Information, "Connector {Connector} was deleted during rollout {RolloutId}; skipped.")]
    public static partial void ConnectorDeleted(ILogger logger, string connector, string rolloutId);

    [LoggerMessage(1006, LogLevel.Error, "Connector {Connector} failed to update to build {Build} in rollout {RolloutId} after {ElapsedMs} ms.")]
    public static partial void ConnectorFailed(ILogger logger, Exception exception, string connector, string build, string rolloutId, long elapsedMs);

    [LoggerMessage(1007, LogLevel.Information, "App services updated to build {Build} ({Count}): {Connectors}.")]
    public static partial void AppServicesUpdated(ILogger logger, string build, int count, string connectors);

    [LoggerMessage(1008, LogLevel.Information, "Rollout {RolloutId} ({Kind}) to build {Build} finished in {ElapsedMs} ms: {Updated} updated, {AlreadyCurrent} already current, {Deleted} deleted, {Failed} failed, {Mismatched} not verified; succeeded: {Succeeded}.")]
    public static partial void RolloutCompleted(ILogger logger, string rolloutId, RolloutKind kind, string build, long elapsedMs, int updated, int alreadyCurrent, int deleted, int failed, int mismatched, bool succeeded);

    /// <summary>Event 1009; an unset <c>PROJECT_VERSION</c> reads "not set", a set one is quoted.</summary>
    public static void VerificationMismatch(ILogger logger, string connector, string build, string? actual) =>
        VerificationMismatchCore(logger, connector, build, actual is null ? "not set" : $"'{actual}'");

    [LoggerMessage(1009, LogLevel.Warning, "Connector {Connector} reports PROJECT_VERSION {Actual} instead of build {Build}.")]
    private static partial void VerificationMismatchCore(ILogger logger, string connector, string build, string actual);

    [LoggerMessage(1010, LogLevel.Warning, "Rollout {RolloutId} to build {Build} is incomplete; the build stays in flight and the next run retries the connectors that are not on it.")]
    public static partial void RolloutIncomplete(ILogger logger, string rolloutId, string build);

    [LoggerMessage(1011, LogLevel.Information, "Another rollout holds the rollout lock; this {Operation} run is skipped.")]
    public static partial void LockHeld(ILogger logger, string operation);

    /// <summary>Event 1012; the reason is closed with one period, whether or not the operator typed one.</summary>
    public static void BuildInvalidated(ILogger logger, string build, string actor, string reason) =>
        BuildInvalidatedCore(logger, build, actor, Sentence.End(reason));

    [LoggerMessage(1012, LogLevel.Warning, "Build {Build} invalidated by {Actor}: {Reason}")]
    private static partial void BuildInvalidatedCore(ILogger logger, string build, string actor, string reason);

    [LoggerMessage(1013, LogLevel.Information, "Build {Build} reinstated by {Actor}.")]
    public static partial void BuildReinstated(ILogger logger, string build, string actor);

    [LoggerMessage(1014, LogLevel.Warning, "Rolling back from build {Bad} to build {Build}.")]
    public static partial void RollbackStarted(ILogger logger, string bad, string build);

    [LoggerMessage(1015, LogLevel.Error, "The {Operation} operation failed.")]
    public static partial void OperationFailed(ILogger logger, Exception exception, string operation);

    [LoggerMessage(1023, LogLevel.Warning, "The {Operation} operation was refused: {Reason}")]
    public static partial void OperationRefused(ILogger logger, Exception exception, string operation, string reason);

    [LoggerMessage(1016, LogLevel.Warning, "Current build {Current} is invalidated; converging the fleet to build {Build}, the newest valid build.")]
    public static partial void CurrentInvalidated(ILogger logger, string current, string build);

    [LoggerMessage(1017, LogLevel.Information, "Code update detected: first rollout, to build {Target}.")]
    public static partial void FirstUpdateDetected(ILogger logger, string target);

    [LoggerMessage(1018, LogLevel.Error, "Reading PROJECT_VERSION of connector {Connector} failed during verification of build {Build}.")]
    public static partial void VerificationReadFailed(ILogger logger, Exception exception, string connector, string build);

    [LoggerMessage(1019, LogLevel.Information, "Connector {Connector} provisioned with build {Build} in {ElapsedMs} ms.")]
    public static partial void ConnectorProvisioned(ILogger logger, string connector, string build, long elapsedMs);

    [LoggerMessage(1020, LogLevel.Information, "Update worker started: first check in {InitialDelay}, then every {Period}.")]
    public static partial void WorkerStarted(ILogger logger, TimeSpan initialDelay, TimeSpan period);

    [LoggerMessage(1021, LogLevel.Error, "Update check failed ({ErrorType}: {Error}); the worker retries at the next period.")]
    public static partial void WorkerRunFailed(ILogger logger, string errorType, string error);

    [LoggerMessage(1022, LogLevel.Information, "Update worker stopping.")]
    public static partial void WorkerStopping(ILogger logger);

    [LoggerMessage(1030, LogLevel.Warning, "Ignored '{Name}' in the artifact store: not a build package name ({{build}}.zip with a valid build number).")]
    public static partial void IgnoredArtifactName(ILogger logger, string name);

    [LoggerMessage(1031, LogLevel.Information, "Delivered build {Build} ({Size} bytes, SHA-256 {Sha256}).")]
    public static partial void BuildDelivered(ILogger logger, string build, long size, string sha256);

    [LoggerMessage(1032, LogLevel.Information, "Build {Build} not delivered: its content equals the newest delivered build {Newest}.")]
    public static partial void DeliveryUnchanged(ILogger logger, string build, string newest);

    [LoggerMessage(1033, LogLevel.Information, "Build {Build} is already delivered with the same content; nothing written.")]
    public static partial void DeliveryAlreadyExists(ILogger logger, string build);

    [LoggerMessage(1040, LogLevel.Warning, "Rollout {RolloutId} ({Kind}) to build {Build} stopped: {Reason}. {Stopped} connectors were not started; {Updated} updated before the stop.")]
    public static partial void RolloutStopped(ILogger logger, string rolloutId, RolloutKind kind, string build, string reason, int stopped, int updated);

    [LoggerMessage(1041, LogLevel.Warning, "Reading the version state to watch the rollout of build {Build} failed; the rollout goes on until the state has been unreadable for three watch intervals.")]
    public static partial void StateWatchReadFailed(ILogger logger, Exception exception, string build);

    [LoggerMessage(1042, LogLevel.Warning, "Rollback: another rollout holds the lock; build {Build} is invalidated so that it stops, and this rollback waits up to {Wait} for the lock.")]
    public static partial void RollbackWaitingForLock(ILogger logger, string build, TimeSpan wait);

    [LoggerMessage(1050, LogLevel.Information, "Rollout {RolloutId} to build {Build} started: {Waves} waves, plan fingerprint {Fingerprint}.")]
    public static partial void WaveRolloutStarted(ILogger logger, string rolloutId, string build, int waves, string fingerprint);

    [LoggerMessage(1051, LogLevel.Information, "Rollout {RolloutId}: wave {Wave} ('{WaveName}') started, attempt {Attempt}.")]
    public static partial void WaveStarted(ILogger logger, string rolloutId, int wave, string waveName, int attempt);

    [LoggerMessage(1052, LogLevel.Information, "Rollout {RolloutId}: wave '{WaveName}' verified: {Updated} of {Connectors} on build {Build}, {Failed} failed, {Transient} transient failures.")]
    public static partial void WaveVerified(ILogger logger, string rolloutId, string waveName, int updated, int connectors, string build, int failed, int transient);

    [LoggerMessage(1053, LogLevel.Information, "Rollout {RolloutId}: wave '{WaveName}' bakes until {BakeUntil:u}.")]
    public static partial void WaveBaking(ILogger logger, string rolloutId, string waveName, DateTimeOffset bakeUntil);

    [LoggerMessage(1054, LogLevel.Information, "Rollout {RolloutId}: gate of wave '{WaveName}': {Verdict} ({Reason}).")]
    public static partial void GateVerdict(ILogger logger, string rolloutId, string waveName, string verdict, string reason);

    [LoggerMessage(1055, LogLevel.Error, "Rollout {RolloutId} to build {Build} halted: {Reason}. On halt: {Action}.")]
    public static partial void RolloutHalted(ILogger logger, string rolloutId, string build, string reason, HaltAction action);

    [LoggerMessage(1056, LogLevel.Warning, "Rollout {RolloutId}: build {Build} invalidated and {Restored} connectors brought back to build {From}; connectors of waves not reached were not touched.")]
    public static partial void RolloutRolledBack(ILogger logger, string rolloutId, string build, int restored, string from);

    [LoggerMessage(1057, LogLevel.Information, "Rollout {RolloutId} to build {Build} superseded by build {Newer}.")]
    public static partial void RolloutSuperseded(ILogger logger, string rolloutId, string build, string newer);

    [LoggerMessage(1058, LogLevel.Information, "Rollout {RolloutId}: {Action} by {Actor} ({Reason}); status now {Status}.")]
    public static partial void OperatorCommandRecorded(ILogger logger, string rolloutId, OperatorAction action, string actor, string reason, RolloutStatus status);

    [LoggerMessage(1059, LogLevel.Warning, "Rollout {RolloutId} paused: {Reason}.")]
    public static partial void RolloutPaused(ILogger logger, string rolloutId, string reason);

    [LoggerMessage(1060, LogLevel.Information, "Rollout {RolloutId} to build {Build} completed: every wave passed and every eligible connector is verified.")]
    public static partial void WaveRolloutCompleted(ILogger logger, string rolloutId, string build);

    [LoggerMessage(1061, LogLevel.Information, "Connector {Connector} pinned to {Pin} by {Actor}: {Reason}.")]
    public static partial void ConnectorPinned(ILogger logger, string connector, string pin, string actor, string reason);

    [LoggerMessage(1062, LogLevel.Information, "Connector {Connector} unpinned by {Actor}.")]
    public static partial void ConnectorUnpinned(ILogger logger, string connector, string actor);

    [LoggerMessage(1063, LogLevel.Information, "Rollout {RolloutId} to build {Build} is {Status}: {Reason}; nothing to do until an operator acts.")]
    public static partial void RolloutWaiting(ILogger logger, string rolloutId, string build, RolloutStatus status, string reason);
}
