using Microsoft.Extensions.Logging;

namespace IoMT.Deployment.Kudu;

/// <summary>The log messages of IoMT.Deployment.Kudu; event ids 4000-4999. No message carries a token, key or URL query.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "Zip deploy of build {Build} ({Bytes} bytes) to connector {Connector} starting")]
    public static partial void DeploymentStarting(ILogger logger, string connector, BuildNumber build, long bytes);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Zip deploy of build {Build} to connector {Connector} accepted after {ElapsedMs} ms")]
    public static partial void ZipDeployAccepted(ILogger logger, string connector, BuildNumber build, long elapsedMs);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Connector {Connector} has another deployment in progress (409); retry {Attempt} of {Limit} in {DelayMs} ms")]
    public static partial void ZipDeployConflict(ILogger logger, string connector, int attempt, int limit, long delayMs);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Debug, Message = "Deployment status of connector {Connector} unreadable (HTTP {StatusCode}, the scm site may be restarting); polling on")]
    public static partial void DeploymentStatusUnreadable(ILogger logger, string connector, int statusCode);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Debug, Message = "Connector {Connector} has its scm site at {ScmHost}")]
    public static partial void ScmHostResolved(ILogger logger, string connector, string scmHost);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Build {Build} deployed to connector {Connector} in {ElapsedMs} ms")]
    public static partial void DeploymentSucceeded(ILogger logger, string connector, BuildNumber build, long elapsedMs);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Debug, Message = "Deployment status of connector {Connector} names deployment {Polled}, not {Started} (the one started); polling on")]
    public static partial void OtherDeploymentPolled(ILogger logger, string connector, string polled, string started);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information, Message = "The scm site of connector {Connector} has no record of the deployment (404) but ARM still has the app; polling on ({Missing} of {Limit} in a row)")]
    public static partial void DeploymentRecordMissing(ILogger logger, string connector, int missing, int limit);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "App settings of connector {Connector} written for build {Build} ({Changes} changed)")]
    public static partial void SettingsWritten(ILogger logger, string connector, BuildNumber build, int changes);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Debug, Message = "App settings of connector {Connector} already name build {Build}; nothing written")]
    public static partial void SettingsUnchanged(ILogger logger, string connector, BuildNumber build);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Connector {Connector} runs from the package of build {Build}; triggers synced in {ElapsedMs} ms")]
    public static partial void RunFromPackageDeployed(ILogger logger, string connector, BuildNumber build, long elapsedMs);

    [LoggerMessage(EventId = 4030, Level = LogLevel.Debug, Message = "ARM site page {Page} listed: {Sites} sites, {Connectors} connectors")]
    public static partial void InventoryPageListed(ILogger logger, int page, int sites, int connectors);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Information, Message = "ARM inventory listed {Connectors} connectors in {Pages} pages in {ElapsedMs} ms")]
    public static partial void InventoryListed(ILogger logger, int connectors, int pages, long elapsedMs);

    [LoggerMessage(EventId = 4040, Level = LogLevel.Warning, Message = "Health signal {Signal} has no data for connector {Connector}: {Reason}")]
    public static partial void HealthSignalNoData(ILogger logger, string signal, string connector, string reason);

    [LoggerMessage(EventId = 4041, Level = LogLevel.Information, Message = "Health signal {Signal} judges connector {Connector} unhealthy: {Reason}")]
    public static partial void HealthSignalUnhealthy(ILogger logger, string signal, string connector, string reason);

    [LoggerMessage(EventId = 4042, Level = LogLevel.Debug, Message = "Metrics batch for subscription {Subscription} in region {Region}: {Resources} resources, HTTP {StatusCode}, {ElapsedMs} ms")]
    public static partial void MetricsBatchRead(ILogger logger, string subscription, string region, int resources, int statusCode, long elapsedMs);

    [LoggerMessage(EventId = 4050, Level = LogLevel.Warning, Message = "ARM throttled subscription {Subscription} (429): every request of it waits {PauseMs} ms")]
    public static partial void SubscriptionPaused(ILogger logger, string subscription, long pauseMs);
}
