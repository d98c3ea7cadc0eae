using System.Text.Json;
using System.Xml.Linq;
using IoMT.Deployment.Testing;

namespace IoMT.Deployment.Packaging.Tests;

/// <summary>
/// Packs every project under <c>src/</c> once for the test class, into a temporary folder feed, with the repository's
/// version scheme: <c>VersionPrefix</c> from Directory.Build.props and a pre-release suffix unique to this run, so that
/// nothing restored here can come from an older run's packages in the NuGet cache. Builds into its own artifacts
/// folder, leaving the repository's bin/obj alone. Removes the feed, the installed tool and this version's packages from
/// the NuGet cache afterwards.
/// </summary>
public sealed class PackagedFeed : IDisposable
{
    /// <summary>How long the one pack of everything may take on a loaded two-core machine.</summary>
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(8);

    public PackagedFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), "iomt-packaging-tests", Guid.NewGuid().ToString("N")[..12]);
        Feed = Path.Combine(Root, "feed");
        Directory.CreateDirectory(Feed);

        VersionPrefix = ReadProperty(Path.Combine(TestPaths.RepoRoot, "Directory.Build.props"), "VersionPrefix");
        Suffix = "pkgtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6];
        Version = VersionPrefix + "-" + Suffix;
        MicrosoftExtensionsVersion = ReadProperty(Path.Combine(TestPaths.RepoRoot, "Directory.Packages.props"), "MicrosoftExtensionsVersion");

        Projects = Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(path => new SourceProject(path))
            .OrderBy(p => p.PackageId, StringComparer.Ordinal)
            .ToList();

        // One build for all: a solution filter over the solution's src projects (a project missing from the solution
        // fails here, as it should: new projects go into IoMT.Deployment.sln).
        var filter = Path.Combine(Root, "src-packages.slnf");
        File.WriteAllText(filter, JsonSerializer.Serialize(new
        {
            solution = new
            {
                path = Path.Combine(TestPaths.RepoRoot, "IoMT.Deployment.sln"),
                projects = Projects.Select(p => Path.GetRelativePath(TestPaths.RepoRoot, p.ProjectFile).Replace('/', '\\')).ToArray(),
            },
        }));
        PackRun = DotnetProcess.Run(TestPaths.RepoRoot, PackTimeout,
            "pack", filter, "-c", "Release", "-o", Feed, "-nologo", "--disable-build-servers", "-nodeReuse:false",
            $"-p:VersionSuffix={Suffix}", $"-p:ArtifactsPath={Path.Combine(Root, "artifacts")}");
    }

    /// <summary>Gets the temporary folder of this class's run.</summary>
    public string Root { get; }

    /// <summary>Gets the folder feed holding the packages.</summary>
    public string Feed { get; }

    /// <summary>Gets the repository's VersionPrefix.</summary>
    public string VersionPrefix { get; }

    /// <summary>Gets the pre-release label of this run.</summary>
    public string Suffix { get; }

    /// <summary>Gets the version every package was packed with.</summary>
    public string Version { get; }

    /// <summary>Gets the version of the Microsoft.Extensions packages the repository uses (restorable here).</summary>
    public string MicrosoftExtensionsVersion { get; }

    /// <summary>Gets the projects under src/.</summary>
    public IReadOnlyList<SourceProject> Projects { get; }

    /// <summary>Gets the pack's process run.</summary>
    public ProcessRun PackRun { get; }

    /// <summary>Gets the path of a package in the feed.</summary>
    public string Package(string id, string extension = ".nupkg") => Path.Combine(Feed, $"{id}.{Version}{extension}");

    /// <summary>Gets a new folder under this run's root.</summary>
    public string NewFolder(string name)
    {
        var folder = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public void Dispose()
    {
        // This run's version of each package, restored by the tool install or the consumer, leaves the cache with it.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(cache))
        {
            cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        foreach (var project in Projects)
        {
            var id = Path.Combine(cache, project.PackageId.ToLowerInvariant());
            TryDelete(Path.Combine(id, Version.ToLowerInvariant()));
            if (Directory.Exists(id) && !Directory.EnumerateFileSystemEntries(id).Any())
            {
                TryDelete(id);
            }
        }

        TryDelete(Root);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held open (a tool process the OS has not reaped yet): the temp folder is left behind.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string ReadProperty(string file, string name)
    {
        var value = XDocument.Load(file).Descendants(name).Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0);
        return value ?? throw new InvalidOperationException($"{file} sets no {name}.");
    }
}

/// <summary>A project under src/ and the package it should make.</summary>
public sealed class SourceProject
{
    public SourceProject(string projectFile)
    {
        ProjectFile = projectFile;
        Folder = Path.GetDirectoryName(projectFile)!;
        var xml = XDocument.Load(projectFile);
        string? Property(string name) => xml.Descendants(name).Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0);
        AssemblyName = Property("AssemblyName") ?? Path.GetFileNameWithoutExtension(projectFile);
        PackageId = Property("PackageId") ?? AssemblyName;
        IsTool = string.Equals(Property("PackAsTool"), "true", StringComparison.OrdinalIgnoreCase);
        ToolCommandName = Property("ToolCommandName");
        Description = Property("Description");
    }

    public string ProjectFile { get; }

    public string Folder { get; }

    public string AssemblyName { get; }

    public string PackageId { get; }

    public bool IsTool { get; }

    public string? ToolCommandName { get; }

    public string? Description { get; }

    public override string ToString() => PackageId;
}
