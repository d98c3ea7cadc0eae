using IoMT.Deployment.Cli.Logging;
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
    private const string RolloutSection = "Rollout";
    private const string LocalSection = "Local";

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
            configuration.GetSection(RolloutSection).Bind(o);
            if (settings.MaxParallel is { } maxParallel)
            {
                o.MaxParallelism = maxParallel;
            }

            o.Actor = settings.Actor;
        }).UseOptionsSection<RolloutOptions>(RolloutSection);

        if (settings.Provider == CliSettings.AzureProvider)
        {
            AzureProvider.Add(builder, configuration, need);
        }
        else
        {
            builder.UseOptionsSection<LocalProviderOptions>(LocalSection);
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

    /// <summary>
    /// Describes invalid settings. Each names the key the tool reads (<c>Local:MaxEntries</c>, <c>Azure:Arm:MaxRetries</c>):
    /// every options type is composed with <c>UseOptionsSection</c> naming the tool's section.
    /// </summary>
    /// <param name="exception">The validation failure.</param>
    /// <returns>The message.</returns>
    public static string InvalidSettingsMessage(Exception exception)
    {
        var failures = exception switch
        {
            OptionsValidationException validation => validation.Failures,
            AggregateException aggregate => aggregate.InnerExceptions.SelectMany(e => e is OptionsValidationException v ? v.Failures : [e.Message]),
            _ => [exception.Message],
        };

        return string.Join(Environment.NewLine, failures.Select(f => "Invalid setting: " + f))
            + Environment.NewLine
            + "Settings come from flags, then IOMT_DEPLOY__{SECTION}__{KEY} environment variables (e.g. IOMT_DEPLOY__LOCAL__MAXENTRIES), then the --config file.";
    }

    private static void ConfigureLocal(IServiceCollection services, CliSettings settings, IConfiguration configuration) =>
        services.Configure<LocalProviderOptions>(o => BindLocal(o, settings, configuration));

    private static void BindLocal(LocalProviderOptions options, CliSettings settings, IConfiguration configuration)
    {
        configuration.GetSection(LocalSection).Bind(options);
        options.Root = settings.Root;
    }
}
