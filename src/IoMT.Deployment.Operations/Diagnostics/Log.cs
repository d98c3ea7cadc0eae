using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Operations.Diagnostics;

/// <summary>The operator console's log messages. Event ids 6000-6999.</summary>
internal static partial class Log
{
    [LoggerMessage(6001, LogLevel.Information, "Operator action {Action} on {Target} by {Actor} (reason: {Reason}) succeeded: {Outcome}")]
    public static partial void ActionSucceeded(ILogger logger, string action, string target, string actor, string outcome, string reason);

    [LoggerMessage(6002, LogLevel.Warning, "Operator action {Action} on {Target} by {Actor} was refused with HTTP {StatusCode}: {Message}")]
    public static partial void ActionRefused(ILogger logger, string action, string target, string actor, int statusCode, string message);

    [LoggerMessage(6003, LogLevel.Error, "Operations request {Endpoint} by {Actor} failed with HTTP {StatusCode}.")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string endpoint, string actor, int statusCode);

    [LoggerMessage(6004, LogLevel.Warning, "Operations request {Endpoint} refused: the token names no object id (oid or sub), so no actor can be recorded.")]
    public static partial void NoActor(ILogger logger, string endpoint);
}
