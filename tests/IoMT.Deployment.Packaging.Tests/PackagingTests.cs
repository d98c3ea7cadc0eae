using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace IoMT.Deployment.Packaging.Tests;

/// <summary>
/// The packages as they would be published: every src project packs with its metadata, README, XML docs and symbols;
/// the tool installs from the feed and works; a consumer project restores the libraries from the feed and runs the engine.
/// </summary>
public sealed partial class PackagingTests : IClassFixture<PackagedFeed>
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);
    private readonly PackagedFeed _feed;

    public PackagingTests(PackagedFeed feed)
    {
        _feed = feed;
        _feed.PackRun.Exits(0);
    }

    [Fact]
    public void Every_src_project_packs_at_the_one_version_with_complete_metadata_readme_docs_and_symbols()
    {
        Assert.Contains(_feed.Projects, p => p.PackageId == "IoMT.Deployment.Cli" && p.IsTool);
        Assert.Contains(_feed.Projects, p => p.PackageId == "IoMT.Deployment.Abstractions");
        var expected = _feed.Projects.SelectMany(p => new[] { $"{p.PackageId}.{_feed.Version}.nupkg", $"{p.PackageId}.{_feed.Version}.snupkg" });
        Assert.Equal(expected.Order(StringComparer.Ordinal), Directory.GetFiles(_feed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        foreach (var project in _feed.Projects)
        {
            using var package = ZipFile.OpenRead(_feed.Package(project.PackageId));
            var entries = package.Entries.Select(e => e.FullName).ToList();
            var nuspec = ReadNuspec(package, project.PackageId);
            string Meta(string name) => nuspec.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value
                ?? throw new Xunit.Sdk.XunitException($"{project}: the nuspec has no <{name}>.");

            Assert.Equal(project.PackageId, Meta("id"));
            Assert.Equal(_feed.Version, Meta("version"));
            Assert.False(string.IsNullOrWhiteSpace(Meta("authors")), $"{project}: no authors");
            Assert.Equal(project.Description, Meta("description"));
            Assert.True(project.Description!.Length >= 60, $"{project}: the description '{project.Description}' says too little about the package.");
            var license = nuspec.Elements().Single(e => e.Name.LocalName == "license");
            Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
            Assert.StartsWith("https://", Meta("projectUrl"), StringComparison.Ordinal);
            Assert.Contains(_feed.Version, Meta("releaseNotes"), StringComparison.Ordinal);
            Assert.Contains("iomt", Meta("tags").Split(' '));
            var repository = nuspec.Elements().Single(e => e.Name.LocalName == "repository");
            Assert.Equal("git", (string?)repository.Attribute("type"));
            Assert.StartsWith("https://", (string?)repository.Attribute("url"), StringComparison.Ordinal);
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");

            // The README shown by the feed is the project folder's README.md, in the package.
            Assert.Equal("README.md", Meta("readme"));
            var readme = Read(package, "README.md");
            Assert.Equal(File.ReadAllText(Path.Combine(project.Folder, "README.md")), readme);
            Assert.StartsWith("# ", readme, StringComparison.Ordinal);
            Assert.Contains("/README.md)", readme, StringComparison.Ordinal); // links to the repository README

            // XML docs beside the assembly; the symbols in the .snupkg.
            var libFolder = project.IsTool ? "tools/net10.0/any/" : "lib/net10.0/";
            Assert.Contains(libFolder + project.AssemblyName + ".dll", entries);
            var docs = Read(package, libFolder + project.AssemblyName + ".xml");
            Assert.Contains($"<name>{project.AssemblyName}</name>", docs, StringComparison.Ordinal);
            using var symbols = ZipFile.OpenRead(_feed.Package(project.PackageId, ".snupkg"));
            Assert.Contains(libFolder + project.AssemblyName + ".pdb", symbols.Entries.Select(e => e.FullName));

            if (project.IsTool)
            {
                Assert.Equal("DotnetTool", nuspec.Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name")?.Value);
                Assert.Contains($"<Command Name=\"{project.ToolCommandName}\"", Read(package, "tools/net10.0/any/DotnetToolSettings.xml"), StringComparison.Ordinal);
            }
            else
            {
                // Sibling packages are dependencies at exactly this run's version: one version scheme for all.
                foreach (var dependency in nuspec.Descendants().Where(e => e.Name.LocalName == "dependency" && ((string?)e.Attribute("id"))!.StartsWith("IoMT.Deployment", StringComparison.Ordinal)))
                {
                    Assert.Equal(_feed.Version, (string?)dependency.Attribute("version"));
                }
            }
        }
    }

    [Fact]
    public void The_tool_installs_from_the_feed_prints_its_version_and_delivers_and_updates_a_local_fleet()
    {
        var tools = _feed.NewFolder("tools");
        DotnetProcess.Run(_feed.Root, StepTimeout,
            "tool", "install", "IoMT.Deployment.Cli", "--tool-path", tools, "--add-source", _feed.Feed, "--version", _feed.Version).Exits(0);
        var tool = Path.Combine(tools, OperatingSystem.IsWindows() ? "iomt-deploy.exe" : "iomt-deploy");
        Assert.True(File.Exists(tool), $"dotnet tool install made no {tool}.");

        var work = _feed.NewFolder("tool-work");
        ProcessRun Deploy(params string[] args) => DotnetProcess.Start(tool, work, StepTimeout, null, args);

        var version = Deploy("--version").Exits(0);
        Assert.Equal(_feed.Version, version.Stdout.Trim());
        Assert.StartsWith(_feed.VersionPrefix + "-", version.Stdout.Trim(), StringComparison.Ordinal);

        var root = Path.Combine(work, ".iomt");
        var function = Path.Combine(work, "publish");
        Directory.CreateDirectory(Path.Combine(function, "bin"));
        File.WriteAllText(Path.Combine(function, "host.json"), """{ "version": "2.0" }""");
        File.WriteAllText(Path.Combine(function, "bin", "connector.dll"), "connector code of build 20201105.3");

        Deploy("connectors", "add", "contoso", "fabrikam", "--root", root).Exits(0);
        Deploy("deliver", function, "--build", "20201105.3", "--if-changed", "--root", root).Exits(0);
        Assert.True(File.Exists(Path.Combine(root, "artifacts", "20201105.3.zip")));
        Deploy("update", "--root", root).Exits(0);

        foreach (var connector in new[] { "contoso", "fabrikam" })
        {
            var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "connectors", connector, "appsettings.json")))!;
            Assert.Equal("20201105.3", (string?)settings["PROJECT_VERSION"]);
            Assert.Equal("connector code of build 20201105.3", File.ReadAllText(Path.Combine(root, "connectors", connector, "site", "wwwroot", "bin", "connector.dll")));
        }

        var status = JsonNode.Parse(Deploy("status", "--output", "json", "--root", root).Exits(0).Stdout)!;
        Assert.Contains("20201105.3", status.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_consumer_project_restores_the_libraries_from_the_feed_and_runs_the_engine_with_the_local_provider()
    {
        var consumer = _feed.NewFolder("consumer");
        // Its own nuget.config: the feed added to the sources configured for this machine (the normal source).
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="iomt-test-feed" value="{_feed.Feed}" />
              </packageSources>
            </configuration>
            """);
        // Standalone: no Directory.Build.props or central package management of the repository above it.
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(consumer, "Directory.Packages.props"), "<Project />");
        var libraries = _feed.Projects.Where(p => !p.IsTool).Select(p => p.PackageId).ToList();
        Assert.Contains("IoMT.Deployment", libraries);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <NuGetAudit>false</NuGetAudit>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
            {string.Concat(libraries.Select(id => $"    <PackageReference Include=\"{id}\" Version=\"[{_feed.Version}]\" />\n"))}    <PackageReference Include="Microsoft.Extensions.DependencyInjection" Version="{_feed.MicrosoftExtensionsVersion}" />
                <PackageReference Include="Microsoft.Extensions.Logging" Version="{_feed.MicrosoftExtensionsVersion}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

        var output = Path.Combine(consumer, "out");
        DotnetProcess.Run(consumer, StepTimeout, "build", "-c", "Release", "-o", output, "-nologo", "--disable-build-servers", "-nodeReuse:false").Exits(0);

        var root = Path.Combine(consumer, ".iomt");
        var run = DotnetProcess.Run(consumer, StepTimeout, Path.Combine(output, "Consumer.dll"), root).Exits(0);

        // The assemblies it ran are the feed's, at this run's version.
        foreach (var library in libraries)
        {
            Assert.Contains($"assembly {library} {_feed.Version}", run.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("delivered 1: Delivered", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("update to 1: succeeded=True updated=2", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("status current=1", run.Stdout, StringComparison.Ordinal);
        foreach (var connector in new[] { "contoso", "fabrikam" })
        {
            var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "connectors", connector, "appsettings.json")))!;
            Assert.Equal("1", (string?)settings["PROJECT_VERSION"]);
        }
    }

    private static XElement ReadNuspec(ZipArchive package, string id) =>
        XDocument.Parse(Read(package, id + ".nuspec")).Root!.Elements().Single(e => e.Name.LocalName == "metadata");

    private static string Read(ZipArchive package, string entry)
    {
        var found = package.GetEntry(entry) ?? throw new Xunit.Sdk.XunitException($"The package has no {entry}: {string.Join(", ", package.Entries.Select(e => e.FullName).Take(40))}");
        using var reader = new StreamReader(found.Open());
        return reader.ReadToEnd();
    }

    /// <summary>A host that composes the engine from the packages: local provider, deliver a build, roll it out, verify.</summary>
    private const string ConsumerProgram = """
        using System.Reflection;
        using IoMT.Deployment;
        using IoMT.Deployment.Local;
        using Microsoft.Extensions.DependencyInjection;

        var root = args[0];
        foreach (var assembly in new[] { typeof(BuildNumber), typeof(IRolloutEngine), typeof(IoMT.Deployment.Blobs.BlobArtifactOptions), typeof(IoMT.Deployment.Cosmos.CosmosVersionStoreOptions), typeof(IoMT.Deployment.Kudu.KuduDeployerOptions), typeof(IoMT.Deployment.Operations.OperationsOptions) }.Select(t => t.Assembly))
        {
            Console.WriteLine($"assembly {assembly.GetName().Name} {assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}");
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIoMTDeployment(o => o.MaxParallelism = 2)
            .AddLocalProvider(o => o.Root = root)
            .AddLocalArtifactPublisher();
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<LocalFleet>().AddAsync(["contoso", "fabrikam"]);

        var function = Path.Combine(Path.GetTempPath(), "iomt-consumer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(function);
        try
        {
            File.WriteAllText(Path.Combine(function, "host.json"), "{ \"version\": \"2.0\" }");
            var package = await DeterministicPackager.PackageAsync(function);
            var delivered = await provider.GetRequiredService<DeliveryService>().DeliverAsync(BuildNumber.Parse("1"), package, ifChanged: true);
            Console.WriteLine($"delivered {delivered.Build}: {delivered.Outcome}");
        }
        finally
        {
            Directory.Delete(function, recursive: true);
        }

        var engine = provider.GetRequiredService<IRolloutEngine>();
        var report = await engine.UpdateAsync();
        Console.WriteLine($"update to {report.Target}: succeeded={report.Succeeded} updated={report.Count(ConnectorOutcome.Updated)}");
        var status = await engine.GetStatusAsync();
        Console.WriteLine($"status current={status.State.Current}");
        return report.Succeeded ? 0 : 1;
        """;
}
