using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Cli.Logging;

/// <summary>The tool's log messages. Event ids 5000-5999.</summary>
internal static partial class Log
{
    [LoggerMessage(5001, LogLevel.Debug, "Running {Command} with the {Provider} provider ({Location}).")]
    public static partial void CommandStarting(ILogger logger, string command, string provider, string location);

    [LoggerMessage(5002, LogLevel.Debug, "{Command} finished with exit code {ExitCode} in {ElapsedMs} ms.")]
    public static partial void CommandCompleted(ILogger logger, string command, int exitCode, long elapsedMs);

    [LoggerMessage(5003, LogLevel.Debug, "{Command} failed with exit code {ExitCode}.")]
    public static partial void CommandFailed(ILogger logger, Exception exception, string command, int exitCode);

    [LoggerMessage(5004, LogLevel.Information, "Packaged folder {Folder}: {Files} files, {Size} bytes, SHA-256 {Sha256}.")]
    public static partial void FolderPackaged(ILogger logger, string folder, int files, long size, string sha256);

    [LoggerMessage(5005, LogLevel.Information, "Connectors added to the local fleet: {Connectors}.")]
    public static partial void ConnectorsAdded(ILogger logger, string connectors);

    [LoggerMessage(5006, LogLevel.Information, "Connectors removed from the local fleet: {Connectors}.")]
    public static partial void ConnectorsRemoved(ILogger logger, string connectors);

    [LoggerMessage(5007, LogLevel.Warning, "The signed-in Azure principal could not be read ({Reason}); recording the operating-system user {Actor} as the actor. Pass --actor to name it.")]
    public static partial void PrincipalUnknown(ILogger logger, string reason, string actor);
}
