using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>How flags, <c>IOMT_DEPLOY__</c> variables and the <c>--config</c> file combine.</summary>
public sealed class CliSettingsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "iomt-cli-tests", Guid.NewGuid().ToString("N"));

    public CliSettingsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Dictionary<string, string?> Env(params (string Name, string Value)[] variables) =>
        variables.ToDictionary(v => v.Name, v => (string?)v.Value);

    private string ConfigFile(string json)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Flags_win_over_environment_which_wins_over_the_file()
    {
        var file = ConfigFile("""{ "Root": "file-root", "MaxParallel": 3, "Provider": "azure", "Actor": "file-actor", "Local": { "MaxEntries": 7 } }""");
        var environment = Env(("IOMT_DEPLOY__ROOT", "env-root"), ("iomt_deploy__maxparallel", "5"), ("IOMT_DEPLOY__LOCAL__MAXENTRIES", "9"), ("USER", "someone"));
        var flags = new Dictionary<string, string?> { ["Root"] = "flag-root", ["Provider"] = null };

        var configuration = CliSettings.BuildConfiguration(file, environment, flags);
        var settings = CliSettings.Read(configuration, environment);

        Assert.Equal("flag-root", settings.Root);
        Assert.Equal(5, settings.MaxParallel);
        Assert.Equal("azure", settings.Provider);
        Assert.Equal("file-actor", settings.Actor);
        Assert.Equal("9", configuration["Local:MaxEntries"]);
    }

    [Fact]
    public void Defaults_are_the_local_provider_at_dot_iomt_and_the_actor_from_USER()
    {
        var environment = Env(("USER", "alice"), ("OTHER__ROOT", "ignored"));
        var settings = CliSettings.Read(CliSettings.BuildConfiguration(null, environment, new Dictionary<string, string?>()), environment);
        Assert.Equal("local", settings.Provider);
        Assert.Equal(".iomt", settings.Root);
        Assert.Null(settings.MaxParallel);
        Assert.Equal("alice", settings.Actor);

        Assert.False(settings.ActorIsExplicit);
    }

    [Fact]
    public void Without_USER_the_actor_is_the_operating_system_user_never_the_tools_name()
    {
        var anonymous = CliSettings.Read(CliSettings.BuildConfiguration(null, Env(), new Dictionary<string, string?>()), Env());
        Assert.NotEqual("iomt-deploy", anonymous.Actor);
        Assert.Equal(string.IsNullOrWhiteSpace(Environment.UserName) ? CliSettings.UnknownActor : Environment.UserName, anonymous.Actor);

        var windows = CliSettings.Read(CliSettings.BuildConfiguration(null, Env(("USERNAME", "bob")), new Dictionary<string, string?>()), Env(("USERNAME", "bob")));
        Assert.Equal("bob", windows.Actor);
    }

    [Fact]
    public void An_actor_flag_is_explicit_and_wins_over_USER()
    {
        var environment = Env(("USER", "alice"));
        var settings = CliSettings.Read(CliSettings.BuildConfiguration(null, environment, new Dictionary<string, string?> { ["Actor"] = " carol " }), environment);
        Assert.Equal("carol", settings.Actor);
        Assert.True(settings.ActorIsExplicit);
    }

    [Theory]
    [InlineData("IOMT_DEPLOY__MAXPARALLEL", "0", "MaxParallel (--max-parallel, IOMT_DEPLOY__MAXPARALLEL) must be between 1 and 1024.")]
    [InlineData("IOMT_DEPLOY__MAXPARALLEL", "1.5", "MaxParallel (--max-parallel, IOMT_DEPLOY__MAXPARALLEL) must be a whole number")]
    [InlineData("IOMT_DEPLOY__PROVIDER", "aws", "Provider (--provider, IOMT_DEPLOY__PROVIDER) must be 'local' or 'azure'.")]
    [InlineData("IOMT_DEPLOY__ROOT", "", "Root (--root, IOMT_DEPLOY__ROOT) must not be empty.")]
    public void Invalid_settings_are_refused_naming_the_setting(string variable, string value, string expected)
    {
        var environment = Env((variable, value));
        var ex = Assert.Throws<CliException>(() => CliSettings.Read(CliSettings.BuildConfiguration(null, environment, new Dictionary<string, string?>()), environment));
        Assert.Equal(ExitCodes.BadInput, ex.ExitCode);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_file_with_the_hosts_IoMTDeployment_section_is_refused_rather_than_ignored()
    {
        var file = ConfigFile("""{ "IoMTDeployment": { "Rollout": { "Waves": [ { "Name": "canary", "Canary": true } ] } } }""");
        var ex = Assert.Throws<CliException>(() => CliSettings.Read(CliSettings.BuildConfiguration(file, Env(), new Dictionary<string, string?>()), Env()));
        Assert.Equal(ExitCodes.BadInput, ex.ExitCode);
        Assert.Contains("'IoMTDeployment' section, which iomt-deploy does not read", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_config_file_is_bad_input()
    {
        var ex = Assert.Throws<CliException>(() => CliSettings.BuildConfiguration(Path.Combine(_folder, "nope.json"), Env(), new Dictionary<string, string?>()));
        Assert.Equal(ExitCodes.BadInput, ex.ExitCode);
        Assert.Contains("nope.json' (--config) does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Composition_gives_the_engine_MaxParallel_the_actor_and_the_local_sections()
    {
        var environment = Env(("IOMT_DEPLOY__MAXPARALLEL", "3"), ("IOMT_DEPLOY__ACTOR", "pipeline"), ("IOMT_DEPLOY__LOCAL__HISTORYLIMIT", "7"), ("IOMT_DEPLOY__ROLLOUT__STATEWRITEATTEMPTS", "5"));
        var configuration = CliSettings.BuildConfiguration(null, environment, new Dictionary<string, string?> { ["Root"] = _folder });
        var settings = CliSettings.Read(configuration, environment);
        using var services = Composition.CliServices.Build(settings, configuration, Composition.CommandNeeds.Engine, new Logging.CliLogFormatterOptions());

        var rollout = services.GetRequiredService<IOptions<RolloutOptions>>().Value;
        Assert.Equal(3, rollout.MaxParallelism);
        Assert.Equal(5, rollout.StateWriteAttempts);
        Assert.Equal("pipeline", rollout.Actor);
        var local = services.GetRequiredService<IOptions<LocalProviderOptions>>().Value;
        Assert.Equal(_folder, local.Root);
        Assert.Equal(7, local.HistoryLimit);
        Assert.Null(services.GetService<IArtifactPublisher>());
    }
}
