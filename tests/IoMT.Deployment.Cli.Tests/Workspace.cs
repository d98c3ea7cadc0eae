using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>
/// A temporary folder for one scenario: the local provider's root (<c>root/</c>), sample function folders (<c>src/</c>),
/// and helpers to run the tool on them and to compare the root before and after.
/// </summary>
public sealed class Workspace : IDisposable
{
    public Workspace()
    {
        Folder = Path.Combine(Path.GetTempPath(), "iomt-cli-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Folder);
        Root = Path.Combine(Folder, "root");
    }

    /// <summary>Gets the workspace folder, the tool's current directory.</summary>
    public string Folder { get; }

    /// <summary>Gets the local provider's root.</summary>
    public string Root { get; }

    /// <summary>Runs the tool on this workspace's root.</summary>
    public CliRun Run(params string[] args) => RunWith(null, args);

    /// <summary>Runs the tool on this workspace's root with environment variables.</summary>
    public CliRun RunWith(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        CliProcess.Run(Folder, environment, [.. args, "--root", Root]);

    /// <summary>Runs the tool with exactly these arguments (no --root added).</summary>
    public CliRun RunBare(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        CliProcess.Run(Folder, environment, args);

    /// <summary>Writes a sample function folder whose content depends on <paramref name="build"/> (and <paramref name="variant"/>).</summary>
    /// <returns>The folder.</returns>
    public string MakeFunction(int build, string variant = "")
    {
        var folder = Path.Combine(Folder, "src", $"build{build}{variant}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        File.WriteAllText(Path.Combine(folder, "host.json"), """{ "version": "2.0" }""");
        File.WriteAllText(Path.Combine(folder, "function.json"), $$"""{ "build": {{build}}, "variant": "{{variant}}" }""");
        File.WriteAllText(Path.Combine(folder, "bin", "connector.dll"), $"connector code of build {build}{variant}");
        return folder;
    }

    /// <summary>Writes a file in the workspace.</summary>
    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Gets a connector's deployed <c>function.json</c>.</summary>
    public string DeployedFunction(string connector) =>
        File.ReadAllText(Path.Combine(Root, "connectors", connector, "site", "wwwroot", "function.json"));

    /// <summary>Gets a connector's settings.</summary>
    public JsonObject Settings(string connector) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "connectors", connector, "appsettings.json")))!;

    /// <summary>Writes a connector's settings.</summary>
    public void WriteSettings(string connector, string json) =>
        File.WriteAllText(Path.Combine(Root, "connectors", connector, "appsettings.json"), json);

    /// <summary>Takes every path under the root with the SHA-256 of every file's bytes.</summary>
    /// <param name="except">File names left out (e.g. <c>history.json</c>, which every rollout appends to).</param>
    public RootSnapshot Snapshot(params string[] except) => RootSnapshot.Take(Root, except);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Every path under a folder, with each file's content hash.</summary>
public sealed class RootSnapshot
{
    private readonly SortedDictionary<string, string> _entries;

    private RootSnapshot(SortedDictionary<string, string> entries) => _entries = entries;

    public int Count => _entries.Count;

    public static RootSnapshot Take(string root, params string[] except)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (Directory.Exists(root))
        {
            foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
            {
                var name = Path.GetRelativePath(root, path);
                if (except.Contains(Path.GetFileName(path)))
                {
                    continue;
                }

                entries[name] = Directory.Exists(path) ? "<dir>" : Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
            }
        }

        return new RootSnapshot(entries);
    }

    /// <summary>Asserts that nothing changed: same paths, same bytes.</summary>
    public void AssertUnchanged(RootSnapshot after, string what)
    {
        var changes = new StringBuilder();
        foreach (var (path, hash) in _entries)
        {
            if (!after._entries.TryGetValue(path, out var now))
            {
                changes.Append("  removed ").AppendLine(path);
            }
            else if (now != hash)
            {
                changes.Append("  changed ").AppendLine(path);
            }
        }

        foreach (var path in after._entries.Keys.Where(p => !_entries.ContainsKey(p)))
        {
            changes.Append("  added ").AppendLine(path);
        }

        if (changes.Length > 0)
        {
            throw new Xunit.Sdk.XunitException($"{what} changed the root:\n{changes}");
        }
    }
}
