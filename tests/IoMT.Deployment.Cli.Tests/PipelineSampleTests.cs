using System.CommandLine;
using System.Text.RegularExpressions;
using IoMT.Deployment.Cli.Commands;
using YamlDotNet.RepresentationModel;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>samples/Pipelines/azure-pipelines.yml runs only iomt-deploy commands and flags that the tool's own command tree accepts.</summary>
public sealed partial class PipelineSampleTests
{
    private static readonly string PipelinePath = Path.Combine(Testing.TestPaths.RepoRoot, "samples", "Pipelines", "azure-pipelines.yml");

    [GeneratedRegex(@"\$\((?<name>[A-Za-z_.]+)\)")]
    private static partial Regex PipelineVariable();

    private static readonly Dictionary<string, string> SampleValues = new(StringComparer.Ordinal)
    {
        ["Build.BuildNumber"] = "20201105.3",
    };

    /// <summary>Every script line of the pipeline that runs iomt-deploy, pipeline variables replaced by sample values.</summary>
    private static List<string[]> IomtDeployCommands()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(PipelinePath))
        {
            yaml.Load(reader);
        }

        var scripts = new List<string>();
        void Walk(YamlNode node)
        {
            switch (node)
            {
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children)
                    {
                        if (key is YamlScalarNode { Value: "script" or "inlineScript" } && value is YamlScalarNode { Value: { } script })
                        {
                            scripts.Add(script);
                        }

                        Walk(value);
                    }

                    break;
                case YamlSequenceNode sequence:
                    foreach (var child in sequence.Children)
                    {
                        Walk(child);
                    }

                    break;
            }
        }

        Walk(yaml.Documents.Single().RootNode);
        return scripts
            .SelectMany(s => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length > 0 && words[0].EndsWith("/iomt-deploy", StringComparison.Ordinal))
            .Select(words => words.Skip(1).Select(w => PipelineVariable().Replace(w, m => SampleValues.GetValueOrDefault(m.Groups["name"].Value, "x"))).ToArray())
            .ToList();
    }

    [Fact]
    public void Every_iomt_deploy_command_of_the_pipeline_parses_with_the_tools_command_tree()
    {
        var commands = IomtDeployCommands();
        Assert.Equal(3, commands.Count); // package, deliver (test environment), deliver --if-changed (production).
        var console = new CliConsole { Out = TextWriter.Null, Error = TextWriter.Null, Environment = new Dictionary<string, string?>() };
        var root = CommandTree.Create(console);
        foreach (var args in commands)
        {
            var parse = root.Parse(args);
            Assert.True(parse.Errors.Count == 0, $"iomt-deploy {string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }

        Assert.Contains(commands, c => c[0] == "deliver" && c.Contains("--build") && !c.Contains("--if-changed"));
        Assert.Contains(commands, c => c[0] == "deliver" && c.Contains("--if-changed"));
    }

    [Fact]
    public void The_check_fails_for_a_flag_the_tool_does_not_have()
    {
        var root = CommandTree.Create(new CliConsole { Out = TextWriter.Null, Error = TextWriter.Null, Environment = new Dictionary<string, string?>() });
        Assert.NotEmpty(root.Parse(["deliver", "pkg.zip", "--build", "1", "--if-unchanged"]).Errors);
        Assert.NotEmpty(root.Parse(["publish", "pkg.zip"]).Errors);
    }
}
