using IoMT.Deployment.Blobs;
using IoMT.Deployment.Cli.Logging;
using IoMT.Deployment.Cosmos;
using IoMT.Deployment.Kudu;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cli.Composition;

/// <summary>What a command needs composed.</summary>
internal enum CommandNeeds
{
    /// <summary>The write side of the artifact store only (deliver).</summary>
    Publisher,

    /// <summary>The rollout engine over the existing state (status, update, rollback, …).</summary>
    Engine,

    /// <summary>The local fleet administration (connectors add/remove).</summary>
    LocalFleet,
}

/// <summary>Composes the engine and the adapters through the same DI entry point as any host.</summary>
internal static class CliServices
{
    /// <summary>Builds the service provider for a command and validates every option at once, as a host does at start.</summary>
    /// <param name="settings">The top-level settings.</param>
    /// <param name="configuration">The whole configuration (adapter sections included).</param>
    /// <param name="needs">What the command needs; <see langword="null"/>: logging only.</param>
    /// <param name="logFormat">How logs are written.</param>
    /// <returns>The provider; dispose it to flush the logs.</returns>
    /// <exception cref="CliException">A setting is missing or invalid (exit code 2).</exception>
    public static ServiceProvider Build(CliSettings settings, IConfiguration configuration, CommandNeeds? needs, CliLogFormatterOptions logFormat)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.SetMinimumLevel(logFormat.Verbose ? LogLevel.Debug : logFormat.Json ? LogLevel.Information : LogLevel.Warning);
            logging.AddConsole(o =>
            {
                o.FormatterName = CliLogFormatter.FormatterName;
                o.LogToStandardErrorThreshold = LogLevel.Trace;
            });
            logging.AddConsoleFormatter<CliLogFormatter, CliLogFormatterOptions>(o =>
            {
                o.Json = logFormat.Json;
                o.Verbose = logFormat.Verbose;
            });
        });

        if (needs is not { } need)
        {
            return services.BuildServiceProvider();
        }

        var builder = services.AddIoMTDeployment(o =>
        {
            configuration.GetSection("Rollout").Bind(o);
            if (settings.MaxParallel is { } maxParallel)
            {
                o.MaxParallelism = maxParallel;
            }

            o.Actor = settings.Actor;
        });

        if (settings.Provider == CliSettings.AzureProvider)
        {
            AzureProvider.Add(builder, configuration, need);
        }
        else
        {
            if (need == CommandNeeds.Publisher)
            {
                // The delivery step gets the write side only, as the pipeline's identity would.
                builder.AddLocalArtifactPublisher();
                ConfigureLocal(services, settings, configuration);
            }
            else
            {
                builder.AddLocalProvider(o => BindLocal(o, settings, configuration));
            }
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        try
        {
            provider.GetService<IStartupValidator>()?.Validate();
            return provider;
        }
        catch (Exception ex) when (ex is OptionsValidationException or AggregateException or InvalidOperationException)
        {
            provider.Dispose();
            throw new CliException(ExitCodes.BadInput, InvalidSettingsMessage(ex), ex);
        }
    }

    /// <summary>Describes invalid settings, naming each with the key the tool reads (<c>Local:MaxEntries</c>, <c>Azure:Arm:MaxRetries</c>).</summary>
    /// <param name="exception">The validation failure.</param>
    /// <returns>The message.</returns>
    public static string InvalidSettingsMessage(Exception exception)
    {
        var failures = exception switch
        {
            OptionsValidationException validation => Describe(validation),
            AggregateException aggregate => aggregate.InnerExceptions.SelectMany(e => e is OptionsValidationException v ? Describe(v) : [e.Message]),
            _ => [exception.Message],
        };

        return string.Join(Environment.NewLine, failures.Select(f => "Invalid setting: " + f))
            + Environment.NewLine
            + "Settings come from flags, then IOMT_DEPLOY__{SECTION}__{KEY} environment variables (e.g. IOMT_DEPLOY__LOCAL__MAXENTRIES), then the --config file.";
    }

    // The options classes name each setting by its key in their convention section (SectionName); the tool reads them
    // from its own sections, so every key in a message is swapped for the tool's.
    private static readonly (Type Options, string ConventionSection, string CliSection)[] Sections =
    [
        (typeof(RolloutOptions), RolloutOptions.SectionName, "Rollout"),
        (typeof(LocalProviderOptions), LocalProviderOptions.SectionName, "Local"),
        (typeof(BlobArtifactOptions), BlobArtifactOptions.SectionName, "Azure:Blobs"),
        (typeof(BlobRolloutLockOptions), BlobRolloutLockOptions.SectionName, "Azure:Blobs:Lock"),
        (typeof(CosmosVersionStoreOptions), CosmosVersionStoreOptions.SectionName, "Azure:Cosmos:VersionStore"),
        (typeof(CosmosConnectorInventoryOptions), CosmosConnectorInventoryOptions.SectionName, "Azure:Cosmos:Connectors"),
        (typeof(KuduDeployerOptions), KuduDeployerOptions.SectionName, "Azure:Arm"),
        (typeof(RunFromPackageDeployerOptions), RunFromPackageDeployerOptions.SectionName, "Azure:Arm"),
        (typeof(ArmConnectorInventoryOptions), ArmConnectorInventoryOptions.SectionName, "Azure:Arm"),
        (typeof(ArmSubscriptionThrottleOptions), ArmSubscriptionThrottleOptions.SectionName, "Azure:Throttle"),
        (typeof(FunctionsHostStatusSignalOptions), FunctionsHostStatusSignalOptions.SectionName, "Azure:Gates:HostStatus"),
        (typeof(AzureMonitorMetricsSignalOptions), AzureMonitorMetricsSignalOptions.SectionName, "Azure:Gates:Metrics"),
    ];

    // Options the table does not know keep their messages as written.
    private static IEnumerable<string> Describe(OptionsValidationException validation)
    {
        var section = Sections.FirstOrDefault(s => s.Options == validation.OptionsType);
        return validation.Failures.Select(message => section.Options is null
            ? message
            : message.Replace(section.ConventionSection + ":", section.CliSection + ":", StringComparison.Ordinal));
    }

    private static void ConfigureLocal(IServiceCollection services, CliSettings settings, IConfiguration configuration) =>
        services.Configure<LocalProviderOptions>(o => BindLocal(o, settings, configuration));

    private static void BindLocal(LocalProviderOptions options, CliSettings settings, IConfiguration configuration)
    {
        configuration.GetSection("Local").Bind(options);
        options.Root = settings.Root;
    }
}
