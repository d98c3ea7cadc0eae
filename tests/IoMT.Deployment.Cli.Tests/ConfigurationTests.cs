using System.Text.Json;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>Where settings come from, and where logs go.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Flags_override_the_environment_which_overrides_the_config_file_and_the_default_root_is_dot_iomt()
    {
        string RootOf(string name) => Path.Combine(_ws.Folder, name);
        var config = _ws.WriteFile("settings.json", $$"""{ "Root": {{JsonSerializer.Serialize(RootOf("from-file"))}} }""");
        var environment = new Dictionary<string, string?> { ["IOMT_DEPLOY__ROOT"] = RootOf("from-env") };

        _ws.RunBare(null, "connectors", "add", "a", "--config", config).Exits(0);
        _ws.RunBare(environment, "connectors", "add", "b", "--config", config).Exits(0);
        _ws.RunBare(environment, "connectors", "add", "c", "--config", config, "--root", RootOf("from-flag")).Exits(0);
        _ws.RunBare(null, "connectors", "add", "d").Exits(0);

        string Connectors(string root) => string.Join(',', JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "connectors.json"))).RootElement.EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        Assert.Equal("a", Connectors(RootOf("from-file")));
        Assert.Equal("b", Connectors(RootOf("from-env")));
        Assert.Equal("c", Connectors(RootOf("from-flag")));
        Assert.Equal("d", Connectors(RootOf(".iomt")));
    }

    [Fact]
    public void Logs_go_to_stderr_as_json_lines_in_json_mode_and_text_mode_shows_warnings_only()
    {
        var quiet = _ws.Run("deliver", _ws.MakeFunction(1), "--build", "1").Exits(0);
        Assert.Equal(string.Empty, quiet.Stderr);
        Assert.StartsWith("Delivered build 1 ", quiet.Stdout, StringComparison.Ordinal);

        var json = _ws.Run("deliver", _ws.MakeFunction(2), "--build", "2", "--output", "json").Exits(0);
        Assert.Equal("2", json.Json().GetProperty("build").GetString());
        var logs = json.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var delivered = Assert.Single(logs, l => l.GetProperty("eventId").GetInt32() == 1031);
        Assert.Equal("2", delivered.GetProperty("state").GetProperty("Build").GetString());
        Assert.Equal("Information", delivered.GetProperty("level").GetString());
    }
}
