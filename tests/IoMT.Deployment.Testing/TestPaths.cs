namespace IoMT.Deployment.Testing;

/// <summary>Where things are in the repository, found from the test assembly's folder.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    /// <summary>The repository root (the folder holding IoMT.Deployment.sln).</summary>
    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>The pinned npm test servers (Azurite, cosmosdb-server).</summary>
    public static string TestServers => Path.Combine(RepoRoot, "tools", "test-servers");

    /// <summary>A file under the test servers' node_modules; throws with install instructions when it is missing.</summary>
    public static string RequireNodeModule(string relativePath)
    {
        var path = Path.Combine(TestServers, "node_modules", relativePath);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The pinned test server file '{path}' is missing. Install the test servers with `npm ci --prefix tools/test-servers` " +
                "(the README's test command, ./test.sh, does it for you).");
        }

        return path;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "IoMT.Deployment.sln")))
            {
                return dir.FullName;
            }

            dir = dir.Parent;
        }

        throw new InvalidOperationException($"IoMT.Deployment.sln not found above {AppContext.BaseDirectory}.");
    }
}
